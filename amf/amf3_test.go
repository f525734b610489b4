package amf

import (
	"bytes"
	"testing"
)

func amf3SharedObject() []any {
	o := &Object{Props: []Prop{}}
	return []any{[]any{o, o}}
}

func amf3Points() []any {
	return []any{[]any{
		&Object{Class: "Point", Props: []Prop{{"x", 1.0}}},
		&Object{Class: "Point", Props: []Prop{{"x", 2.0}}},
	}}
}

func amf3SelfRef() []any {
	o := &Object{}
	o.Props = []Prop{{Key: "self", Value: o}}
	return []any{o}
}

// amf3Vectors covers every AMF3 marker (AMF3 spec §3.2-§3.16), the U29
// boundary examples of §1.3.1 and the three reference tables.
var amf3Vectors = []vector{
	{name: "undefined", wire: hx("00"), dec: []any{Undefined}},
	{name: "null", wire: hx("01"), dec: []any{nil}},
	{name: "false", wire: hx("02"), dec: []any{false}},
	{name: "true", wire: hx("03"), dec: []any{true}},
	{name: "integer 0", wire: hx("04 00"), dec: []any{0.0}, enc: []any{0}},
	{name: "integer 127", wire: hx("04 7f"), dec: []any{127.0}, enc: []any{127}},
	{name: "integer 128", wire: hx("04 81 00"), dec: []any{128.0}, enc: []any{128}},
	{name: "integer 16383", wire: hx("04 ff 7f"), dec: []any{16383.0}, enc: []any{int32(16383)}},
	{name: "integer 16384", wire: hx("04 81 80 00"), dec: []any{16384.0}, enc: []any{int64(16384)}},
	{name: "integer 2097151", wire: hx("04 ff ff 7f"), dec: []any{2097151.0}, enc: []any{2097151}},
	{name: "integer 2097152", wire: hx("04 80 c0 80 00"), dec: []any{2097152.0}, enc: []any{uint32(2097152)}},
	{name: "integer max", wire: hx("04 bf ff ff ff"), dec: []any{268435455.0}, enc: []any{268435455}},
	{name: "integer -1", wire: hx("04 ff ff ff ff"), dec: []any{-1.0}, enc: []any{-1}},
	{name: "integer min", wire: hx("04 c0 80 80 00"), dec: []any{-268435456.0}, enc: []any{-268435456}},
	{name: "integer beyond 29 bits is a double", wire: cat(hx("05"), f64bytes(268435456)), dec: []any{268435456.0}, enc: []any{268435456}},
	{name: "double", wire: cat(hx("05"), f64bytes(1.5)), dec: []any{1.5}},
	{name: "double integral", wire: cat(hx("05"), f64bytes(3)), dec: []any{3.0}},
	{name: "string", wire: cat(hx("06 0b"), "hello"), dec: []any{"hello"}},
	{name: "string empty", wire: hx("06 01"), dec: []any{""}},
	{name: "string reference", wire: cat(hx("09 05 01 06 0b"), "hello", hx("06 00")), dec: []any{[]any{"hello", "hello"}}},
	{name: "empty string never referenced", wire: hx("09 05 01 06 01 06 01"), dec: []any{[]any{"", ""}}},
	{name: "xml document", wire: cat(hx("07 0f"), "<a></a>"), dec: []any{XMLDocument("<a></a>")}},
	{name: "date", wire: cat(hx("08 01"), f64bytes(1e12)), dec: []any{date1e12}},
	{name: "date reference", wire: cat(hx("09 05 01 08 01"), f64bytes(1e12), hx("08 02")), dec: []any{[]any{date1e12, date1e12}}},
	{name: "array dense", wire: hx("09 05 01 04 01 04 02"), dec: []any{[]any{1.0, 2.0}}, enc: []any{[]any{1, 2}}},
	{name: "array empty", wire: hx("09 01 01"), dec: []any{[]any{}}},
	{name: "array associative", wire: cat(hx("09 01 03"), "a", hx("04 01 01")), dec: []any{&ECMAArray{Props: []Prop{{"a", 1.0}}}}, enc: []any{&ECMAArray{Props: []Prop{{"a", 1}}}}},
	{
		name: "array mixed",
		wire: cat(hx("09 03 03"), "a", hx("04 01 01 04 02")),
		dec:  []any{&MixedArray{Assoc: []Prop{{"a", 1.0}}, Dense: []any{2.0}}},
		enc:  []any{&MixedArray{Assoc: []Prop{{"a", 1}}, Dense: []any{2}}},
	},
	{name: "object anonymous", wire: cat(hx("0a 0b 01 03"), "a", hx("04 01 01")), dec: []any{NewObject("a", 1.0)}, enc: []any{NewObject("a", 1)}},
	{
		name: "object sealed typed",
		wire: cat(hx("0a 13 0b"), "Point", hx("03"), "x", hx("04 01")),
		dec:  []any{&Object{Class: "Point", Props: []Prop{{"x", 1.0}}}},
		enc:  []any{&Object{Class: "Point", Props: []Prop{{"x", 1}}}},
	},
	{
		name: "object traits reference",
		wire: cat(hx("09 05 01 0a 13 0b"), "Point", hx("03"), "x", hx("04 01 0a 01 04 02")),
		dec:  amf3Points(),
		enc: []any{[]any{
			&Object{Class: "Point", Props: []Prop{{"x", 1}}},
			&Object{Class: "Point", Props: []Prop{{"x", 2}}},
		}},
	},
	{
		name:       "object sealed and dynamic",
		wire:       cat(hx("0a 1b 0b"), "Point", hx("03"), "x", hx("04 01 03"), "y", hx("04 02 01")),
		dec:        []any{&Object{Class: "Point", Props: []Prop{{"x", 1.0}, {"y", 2.0}}}},
		decodeOnly: true,
	},
	{name: "object reference", wire: hx("09 05 01 0a 0b 01 01 0a 02"), dec: amf3SharedObject()},
	{name: "object reference to self", wire: cat(hx("0a 0b 01 09"), "self", hx("0a 00 01")), dec: amf3SelfRef()},
	{name: "object from map", wire: cat(hx("0a 0b 01 03"), "a", hx("03 03"), "b", hx("01 01")), dec: []any{NewObject("a", true, "b", nil)}, enc: []any{map[string]any{"b": nil, "a": true}}},
	{
		name: "externalizable ArrayCollection",
		wire: cat(hx("0a 07 43"), "flex.messaging.io.ArrayCollection", hx("09 03 01 04 01")),
		dec:  []any{&ArrayCollection{Source: []any{1.0}}},
		enc:  []any{&ArrayCollection{Source: []any{1}}},
	},
	{
		name: "externalizable ObjectProxy",
		wire: cat(hx("0a 07 3b"), "flex.messaging.io.ObjectProxy", hx("0a 0b 01 03"), "a", hx("06 03"), "b", hx("01")),
		dec:  []any{&ObjectProxy{Object: NewObject("a", "b")}},
	},
	{name: "xml", wire: cat(hx("0b 0f"), "<a></a>"), dec: []any{XML("<a></a>")}},
	{name: "xml reference", wire: cat(hx("09 05 01 0b 0f"), "<a></a>", hx("0b 02")), dec: []any{[]any{XML("<a></a>"), XML("<a></a>")}}},
	{name: "byte array", wire: hx("0c 07 010203"), dec: []any{[]byte{1, 2, 3}}},
	{name: "vector int", wire: hx("0d 05 00 00000001 ffffffff"), dec: []any{[]int32{1, -1}}},
	{name: "vector uint", wire: hx("0e 03 00 ffffffff"), dec: []any{[]uint32{0xffffffff}}},
	{name: "vector double", wire: cat(hx("0f 03 00"), f64bytes(1.5)), dec: []any{[]float64{1.5}}},
	{
		name: "vector object",
		wire: cat(hx("10 05 00 0d"), "String", hx("06 03"), "a", hx("06 03"), "b"),
		dec:  []any{[]any{"a", "b"}},
		enc:  []any{ObjectVector{TypeName: "String", Items: []any{"a", "b"}}},
	},
	{
		name: "dictionary",
		wire: cat(hx("11 05 01 06 03"), "k", hx("04 01 04 07 03")),
		dec:  []any{&Dictionary{Weak: true, Entries: []DictEntry{{"k", 1.0}, {7.0, true}}}},
		enc:  []any{&Dictionary{Weak: true, Entries: []DictEntry{{"k", 1}, {7, true}}}},
	},
	{name: "several values, fresh tables each", wire: cat(hx("06 03"), "a", hx("06 03"), "a"), dec: []any{"a", "a"}},
}

func TestDecode3Vectors(t *testing.T) {
	for _, tc := range amf3Vectors {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode3(tc.wire)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !equalValues(got, tc.dec) {
				t.Fatalf("decode:\n got %#v\nwant %#v", got, tc.dec)
			}
		})
	}
}

func TestEncode3Vectors(t *testing.T) {
	for _, tc := range amf3Vectors {
		if tc.decodeOnly {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			in := tc.enc
			if in == nil {
				in = tc.dec
			}
			got, err := Encode3([]byte{0xEE}, in...)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			if !bytes.Equal(got, append([]byte{0xEE}, tc.wire...)) {
				t.Fatalf("encode:\n got % x\nwant ee % x", got, tc.wire)
			}
		})
	}
}

// TestAMF3InsideAMF0 checks that every AMF3 vector also decodes behind an
// avmplus-object marker, and that Encode0 round-trips the result.
func TestAMF3InsideAMF0(t *testing.T) {
	for _, tc := range amf3Vectors {
		if len(tc.dec) != 1 {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode0(append([]byte{0x11}, tc.wire...))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !equalValues(got, tc.dec) {
				t.Fatalf("decode:\n got %#v\nwant %#v", got, tc.dec)
			}
			b, err := Encode0(nil, got...)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			again, err := Decode0(b)
			if err != nil || !equalValues(again, got) {
				t.Fatalf("round trip: %v\n got %#v\nwant %#v", err, again, got)
			}
		})
	}
}
