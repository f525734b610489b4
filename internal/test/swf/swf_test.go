package swf

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"
)

// build writes a minimal SWF: header, a 0-bit RECT, frame rate 30, one
// frame, a DoABC tag whose string pool holds strs (plus an int, a uint and
// a double), and End.
func build(version uint8, compressed bool, strs []string) []byte {
	var abc []byte
	u30 := func(v uint32) {
		for {
			c := byte(v & 0x7f)
			v >>= 7
			if v != 0 {
				abc = append(abc, c|0x80)
				continue
			}
			abc = append(abc, c)
			return
		}
	}
	abc = append(abc, 16, 0, 46, 0) // minor 16, major 46
	u30(2)
	u30(300) // one int
	u30(2)
	u30(1 << 20) // one uint
	u30(2)
	abc = append(abc, make([]byte, 8)...) // one double
	u30(uint32(len(strs) + 1))
	for _, s := range strs {
		u30(uint32(len(s)))
		abc = append(abc, s...)
	}
	tag := func(code uint16, body []byte) []byte {
		h := make([]byte, 6)
		binary.LittleEndian.PutUint16(h, code<<6|0x3f)
		binary.LittleEndian.PutUint32(h[2:], uint32(len(body)))
		return append(h, body...)
	}
	body := []byte{0x00, 0x00, 30, 1, 0} // RECT nbits 0 (1 byte), rate 30.0, 1 frame
	doabc := append([]byte{1, 0, 0, 0}, "main\x00"...)
	body = append(body, tag(TagDoABC, append(doabc, abc...))...)
	body = append(body, 0, 0) // End
	out := []byte("FWS")
	out = append(out, version)
	out = binary.LittleEndian.AppendUint32(out, uint32(8+len(body)))
	if !compressed {
		return append(out, body...)
	}
	out[0] = 'C'
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	w.Write(body)
	w.Close()
	return append(out, z.Bytes()...)
}

// cases drive the round-trip test and seed the fuzz targets.
var cases = []struct {
	version    uint8
	compressed bool
	strs       []string
}{
	{12, true, []string{"invite", "accept", "reject", "bye", "sendDTMF"}},
	{10, false, []string{"", "onIncomingCall", strings.Repeat("x", 200)}},
	{13, true, nil},
	{9, false, []string{"ü€ unicode"}},
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range cases {
		f, err := Parse(build(tc.version, tc.compressed, tc.strs))
		if err != nil {
			t.Fatalf("%+v: %v", tc, err)
		}
		got, err := f.ABCStrings()
		if err != nil {
			t.Fatal(err)
		}
		if f.Version != tc.version || f.Compressed != tc.compressed || f.FrameRate != 30 || f.Frames != 1 || !slices.Equal(got, tc.strs) && len(tc.strs)+len(got) > 0 {
			t.Errorf("%+v: got %+v strings %q", tc, f, got)
		}
	}
}

func TestRefusals(t *testing.T) {
	good := build(12, false, []string{"a"})
	for name, tc := range map[string]struct {
		b    []byte
		want error
	}{
		"empty":     {nil, ErrShort},
		"signature": {append([]byte("GIF89a"), good[6:]...), ErrSignature},
		"lzma":      {append([]byte("ZWS"), good[3:]...), ErrLZMA},
		"huge":      {append([]byte{'F', 'W', 'S', 12, 0xff, 0xff, 0xff, 0x7f}, good[8:]...), ErrTooLarge},
		"truncated": {good[:len(good)-3], ErrShort},
	} {
		if _, err := Parse(tc.b); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", name, err, tc.want)
		}
	}
	// A string pool that claims more entries than bytes remain.
	if _, err := ConstantStrings([]byte{16, 0, 46, 0, 0, 0, 0, 0xff, 0xff, 0x03}); !errors.Is(err, ErrABC) {
		t.Errorf("oversized pool: %v", err)
	}
}

// FuzzParse: no input panics; what parses lists its strings without panic.
func FuzzParse(f *testing.F) {
	for _, tc := range cases {
		f.Add(build(tc.version, tc.compressed, tc.strs))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Parse(b)
		if err != nil {
			return
		}
		_, _ = file.ABCStrings()
	})
}

// FuzzRoundTrip: a SWF built from any version and strings parses back to them.
func FuzzRoundTrip(f *testing.F) {
	for _, tc := range cases {
		f.Add(tc.version, tc.compressed, strings.Join(tc.strs, "\x00"))
	}
	f.Fuzz(func(t *testing.T, version uint8, compressed bool, joined string) {
		var strs []string
		if joined != "" {
			strs = strings.Split(joined, "\x00")
		}
		file, err := Parse(build(version, compressed, strs))
		if err != nil {
			t.Fatal(err)
		}
		got, err := file.ABCStrings()
		if err != nil {
			t.Fatal(err)
		}
		if file.Version != version || len(got) != len(strs) || (len(strs) > 0 && !slices.Equal(got, strs)) {
			t.Fatalf("version %d strings %q: got %d %q", version, strs, file.Version, got)
		}
	})
}
