package wire

import (
	"bytes"
	"errors"
	"testing"
)

var vluCases = []struct {
	v   uint64
	enc []byte
}{
	{0, []byte{0x00}},
	{1, []byte{0x01}},
	{127, []byte{0x7f}},
	{128, []byte{0x81, 0x00}},
	{300, []byte{0x82, 0x2c}},
	{16383, []byte{0xff, 0x7f}},
	{16384, []byte{0x81, 0x80, 0x00}},
	{1<<63 - 1, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}},
}

func TestVLU(t *testing.T) {
	for _, c := range vluCases {
		if got := AppendVLU(nil, c.v); !bytes.Equal(got, c.enc) {
			t.Errorf("appendVLU(%d) = %x, want %x", c.v, got, c.enc)
		}
		if vluSize(c.v) != len(c.enc) {
			t.Errorf("vluSize(%d) = %d, want %d", c.v, vluSize(c.v), len(c.enc))
		}
		v, n, err := ParseVLU(append(c.enc, 0xaa))
		if err != nil || v != c.v || n != len(c.enc) {
			t.Errorf("parseVLU(%x) = %d, %d, %v", c.enc, v, n, err)
		}
	}
	for _, bad := range []struct {
		in  []byte
		err error
	}{
		{nil, ErrBufferTooShort},
		{[]byte{0x80}, ErrBufferTooShort},
		{bytes.Repeat([]byte{0xff}, 9), ErrBufferTooShort},
		{bytes.Repeat([]byte{0xff}, 10), errVLUTooLong},
		{bytes.Repeat([]byte{0x80}, 20), errVLUTooLong},
	} {
		if _, _, err := ParseVLU(bad.in); !errors.Is(err, bad.err) {
			t.Errorf("parseVLU(%x) err = %v, want %v", bad.in, err, bad.err)
		}
	}
}

var optionListCases = [][]byte{
	// EPD as tcconn sends it: ancillary data (the URI).
	AppendOption(nil, EPDAncillary, []byte("rtmfp://127.0.0.1/live")),
	// A server certificate.
	NewIdentity(bytes.Repeat([]byte{7}, 64), true).Cert,
	// Options, a marker, more bytes.
	append(appendOptionVLU(AppendOption(nil, 0x15, nil), 0x1d, 2), 0x00, 0x01, 0x02),
	{0x00},
}

func TestOptionList(t *testing.T) {
	for i, c := range optionListCases {
		opts, n, _, err := parseOptionList(c, maxCertOptions)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		var re []byte
		for _, o := range opts {
			re = AppendOption(re, o.typ, o.value)
		}
		if !bytes.HasPrefix(c[:n], re) {
			t.Errorf("case %d: re-encoded %x is not a prefix of %x", i, re, c[:n])
		}
	}
	if _, _, _, err := parseOptionList([]byte{0x05, 0x01}, 4); err == nil {
		t.Error("truncated option accepted")
	}
	many := bytes.Repeat([]byte{0x01, 0x01}, 40)
	if _, _, _, err := parseOptionList(many, maxCertOptions); err == nil {
		t.Error("more options than the limit accepted")
	}
}

func FuzzVLU(f *testing.F) {
	for _, c := range vluCases {
		f.Add(c.enc)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, n, err := ParseVLU(b)
		if err != nil {
			return
		}
		if n > maxVLUSize || n > len(b) {
			t.Fatalf("length %d of %d", n, len(b))
		}
		if v2, n2, err := ParseVLU(AppendVLU(nil, v)); err != nil || v2 != v || n2 > n {
			t.Fatalf("round trip of %d: %d %d %v", v, v2, n2, err)
		}
	})
}

func FuzzOptionList(f *testing.F) {
	for _, c := range optionListCases {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		opts, n, _, err := parseOptionList(b, maxCertOptions)
		if err != nil {
			return
		}
		if n > len(b) || len(opts) > maxCertOptions {
			t.Fatalf("consumed %d of %d, %d options", n, len(b), len(opts))
		}
		var re []byte
		for _, o := range opts {
			re = AppendOption(re, o.typ, o.value)
		}
		again, _, _, err := parseOptionList(re, maxCertOptions)
		if err != nil || len(again) != len(opts) {
			t.Fatalf("round trip: %v, %d vs %d options", err, len(again), len(opts))
		}
	})
}
