package amf

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// vector is one encode/decode case. dec is what decoding wire yields; enc,
// when set, is the encoder input that produces wire (else dec is). Cases
// with decodeOnly are not canonical encoder output.
type vector struct {
	name       string
	wire       []byte
	dec        []any
	enc        []any
	decodeOnly bool
}

var date1e12 = time.UnixMilli(1e12).UTC() // 2001-09-09T01:46:40Z

func amf0SharedObject() []any {
	o := &Object{}
	return []any{o, o}
}

func amf0SelfRef() []any {
	o := &Object{}
	o.Props = []Prop{{Key: "self", Value: o}}
	return []any{o}
}

// amf0Vectors covers every AMF0 marker (AMF0 spec §2.2-§2.17, §3.1). The
// values are the examples the spec describes for each type.
var amf0Vectors = []vector{
	{name: "number", wire: cat(hx("00"), f64bytes(1.5)), dec: []any{1.5}},
	{name: "number zero", wire: hx("00 0000000000000000"), dec: []any{0.0}},
	{name: "number from int", wire: cat(hx("00"), f64bytes(42)), dec: []any{42.0}, enc: []any{42}},
	{name: "boolean true", wire: hx("01 01"), dec: []any{true}},
	{name: "boolean false", wire: hx("01 00"), dec: []any{false}},
	{name: "boolean nonzero is true", wire: hx("01 7f"), dec: []any{true}, decodeOnly: true},
	{name: "string", wire: cat(hx("02 0005"), "hello"), dec: []any{"hello"}},
	{name: "string empty", wire: hx("02 0000"), dec: []any{""}},
	{name: "string utf8", wire: cat(hx("02 0006"), "héllo"), dec: []any{"héllo"}},
	{
		name: "object",
		wire: cat(hx("03 0001"), "a", hx("00"), f64bytes(1), hx("0001"), "b", hx("02 0001"), "c", hx("0000 09")),
		dec:  []any{NewObject("a", 1.0, "b", "c")},
	},
	{name: "object empty", wire: hx("03 0000 09"), dec: []any{&Object{}}},
	{name: "null", wire: hx("05"), dec: []any{nil}},
	{name: "undefined", wire: hx("06"), dec: []any{Undefined}},
	{name: "reference", wire: hx("03 0000 09 07 0000"), dec: amf0SharedObject()},
	{name: "reference to self", wire: cat(hx("03 0004"), "self", hx("07 0000 0000 09")), dec: amf0SelfRef()},
	{
		name: "ecma array",
		wire: cat(hx("08 00000001 0001"), "a", hx("02 0001"), "b", hx("0000 09")),
		dec:  []any{&ECMAArray{Props: []Prop{{"a", "b"}}}},
	},
	{
		name:       "ecma array with wrong count hint",
		wire:       cat(hx("08 00000000 0001"), "a", hx("02 0001"), "b", hx("0000 09")),
		dec:        []any{&ECMAArray{Props: []Prop{{"a", "b"}}}},
		decodeOnly: true,
	},
	{name: "strict array", wire: cat(hx("0a 00000002 00"), f64bytes(1), hx("02 0001"), "x"), dec: []any{[]any{1.0, "x"}}},
	{name: "strict array empty", wire: hx("0a 00000000"), dec: []any{[]any{}}},
	{name: "strict array from []string", wire: cat(hx("0a 00000001 02 0001"), "x"), dec: []any{[]any{"x"}}, enc: []any{[]string{"x"}}},
	{name: "date", wire: cat(hx("0b"), f64bytes(1e12), hx("0000")), dec: []any{date1e12}},
	{name: "date with time zone", wire: cat(hx("0b"), f64bytes(1e12), hx("ff88")), dec: []any{date1e12}, decodeOnly: true},
	{name: "date before epoch", wire: cat(hx("0b"), f64bytes(-1000), hx("0000")), dec: []any{time.UnixMilli(-1000).UTC()}},
	{name: "long string short content", wire: cat(hx("0c 00000005"), "hello"), dec: []any{"hello"}, decodeOnly: true},
	{
		name: "long string",
		wire: cat(hx("0c 00010000"), strings.Repeat("z", 65536)),
		dec:  []any{strings.Repeat("z", 65536)},
	},
	{name: "unsupported", wire: hx("0d"), dec: []any{UnsupportedType{}}},
	{name: "xml document", wire: cat(hx("0f 00000007"), "<a></a>"), dec: []any{XMLDocument("<a></a>")}},
	{
		name: "typed object",
		wire: cat(hx("10 0005"), "Point", hx("0001"), "x", hx("00"), f64bytes(1), hx("0000 09")),
		dec:  []any{&Object{Class: "Point", Props: []Prop{{"x", 1.0}}}},
	},
	{name: "avmplus switch", wire: hx("11 04 05"), dec: []any{5.0}, enc: []any{AVMPlus{5}}},
	{name: "avmplus for byte array", wire: hx("11 0c 05 0102"), dec: []any{[]byte{1, 2}}},
	{
		name: "several values",
		wire: cat(hx("02 0007"), "connect", hx("00"), f64bytes(1), hx("05 06")),
		dec:  []any{"connect", 1.0, nil, Undefined},
	},
	{
		name: "map sorted keys",
		wire: cat(hx("03 0001"), "a", hx("01 01 0001"), "b", hx("05 0000 09")),
		dec:  []any{NewObject("a", true, "b", nil)},
		enc:  []any{map[string]any{"b": nil, "a": true}},
	},
}

func TestDecode0Vectors(t *testing.T) {
	for _, tc := range amf0Vectors {
		if tc.wire == nil {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode0(tc.wire)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !equalValues(got, tc.dec) {
				t.Fatalf("decode:\n got %#v\nwant %#v", got, tc.dec)
			}
		})
	}
}

func TestEncode0Vectors(t *testing.T) {
	for _, tc := range amf0Vectors {
		if tc.wire == nil || tc.decodeOnly {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			in := tc.enc
			if in == nil {
				in = tc.dec
			}
			got, err := Encode0([]byte{0xEE}, in...)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			if !bytes.Equal(got, append([]byte{0xEE}, tc.wire...)) {
				t.Fatalf("encode:\n got % x\nwant ee % x", got, tc.wire)
			}
		})
	}
}

func TestObjectHelpers(t *testing.T) {
	o := NewObject("level", "status", "code", "NetStream.Play.Start", "n", 2.0)
	if got := o.GetString("code"); got != "NetStream.Play.Start" {
		t.Errorf("GetString = %q", got)
	}
	if got := o.GetString("n"); got != "" {
		t.Errorf("GetString of number = %q", got)
	}
	if n, ok := o.GetNumber("n"); !ok || n != 2 {
		t.Errorf("GetNumber = %v %v", n, ok)
	}
	if _, ok := o.GetNumber("missing"); ok {
		t.Error("GetNumber of missing key")
	}
	o.Set("level", "error")
	o.Set("description", "x")
	want := []string{"level", "code", "n", "description"}
	for i, p := range o.Props {
		if p.Key != want[i] {
			t.Fatalf("order %v, want %v", o.Props, want)
		}
	}
	if v, _ := o.Get("level"); v != "error" {
		t.Errorf("Set did not replace: %v", v)
	}
	for _, args := range [][]any{{"odd"}, {1, 2}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewObject(%v) did not panic", args)
				}
			}()
			NewObject(args...)
		}()
	}
}
