package amf

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
)

type badInput struct {
	name   string
	wire   []byte
	err    error
	offset int
}

var amf0BadInputs = []badInput{
	{"truncated number", hx("00 0102"), ErrShortBuffer, 1},
	{"truncated boolean", hx("01"), ErrShortBuffer, 1},
	{"string longer than input", hx("02 0010 6162"), ErrShortBuffer, 3},
	{"movieclip", hx("04"), ErrRefusedMarker, 0},
	{"recordset", hx("05 0e"), ErrRefusedMarker, 1},
	{"object end at top level", hx("09"), ErrUnexpectedObjectEnd, 0},
	{"unknown marker", hx("12"), ErrUnknownMarker, 0},
	{"object without end", cat(hx("03 0001"), "a", hx("05")), ErrShortBuffer, 5},
	{"empty key without object end", hx("03 0000 05"), ErrMissingObjectEnd, 1},
	{"forward reference", hx("07 0000"), ErrBadReference, 0},
	{"reference to unfinished array", hx("0a 00000001 07 0000"), ErrBadReference, 5},
	{"strict array of 2^31 elements", hx("0a 80000000 00 0000000000000000 0000000000"), ErrTooLong, 0},
	{"long string of 4 GiB", hx("0c ffffffff 00"), ErrTooLong, 5},
	{"long string longer than input", hx("0c 00001000 00"), ErrShortBuffer, 5},
	{"nan date", hx("0b 7ff8000000000000 0000"), ErrInvalidDate, 0},
	{"date beyond range", cat(hx("0b"), f64bytes(9e15), hx("0000")), ErrInvalidDate, 0},
	{"bad avmplus value", hx("05 11 12"), ErrUnknownMarker, 2},
}

var amf3BadInputs = []badInput{
	{"unknown marker", hx("12"), ErrUnknownMarker, 0},
	{"truncated u29", hx("04 ff ff"), ErrShortBuffer, 3},
	{"string longer than input", hx("06 21 61"), ErrShortBuffer, 2},
	{"string reference forward", hx("06 02"), ErrBadReference, 1},
	{"object reference forward", hx("0a 00"), ErrBadReference, 0},
	{"traits reference forward", hx("0a 05"), ErrBadReference, 0},
	{"reference to unfinished array", hx("09 03 01 09 00"), ErrBadReference, 3},
	{"array of 2^27 elements", hx("09 bf ff ff ff 01"), ErrTooLong, 0},
	{"vector of 2^27 doubles", hx("0f bf ff ff ff 00 00"), ErrTooLong, 0},
	{"dictionary of 2^27 entries", hx("11 bf ff ff ff 00 01"), ErrTooLong, 0},
	{"traits with 2^24 sealed members", hx("0a bf ff ff f3 01"), ErrTooLong, 0},
	{"byte array longer than input", hx("0c 0b 01"), ErrShortBuffer, 2},
	{"unknown externalizable", cat(hx("0a 07 07"), "Foo"), ErrUnknownExternalizable, 0},
	{"nan date", hx("08 01 7ff8000000000000"), ErrInvalidDate, 0},
}

func checkBad(t *testing.T, decode func([]byte) ([]any, error), cases []badInput) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decode(tc.wire)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("err %T is not *DecodeError", err)
			}
			if de.Offset != tc.offset {
				t.Errorf("offset = %d, want %d (%v)", de.Offset, tc.offset, err)
			}
			if msg := err.Error(); msg != strings.ToLower(msg[:1])+msg[1:] {
				t.Errorf("error not lowercase: %q", msg)
			}
		})
	}
}

func TestDecode0Errors(t *testing.T) { checkBad(t, Decode0, amf0BadInputs) }

func TestDecode3Errors(t *testing.T) { checkBad(t, Decode3, amf3BadInputs) }

func TestUnknownExternalizableNamesClass(t *testing.T) {
	_, err := Decode3(cat(hx("0a 07 31"), "com.example.Secret.Thing"))
	if err == nil || !strings.Contains(err.Error(), `"com.example.Secret.Thing"`) {
		t.Fatalf("err = %v", err)
	}
}

// TestHugeStrictArray is the acceptance check: a 20-byte AMF0 packet that
// declares a 2^31-element strict array fails at once, allocating < 1 MiB.
func TestHugeStrictArray(t *testing.T) {
	pkt := hx("0a 80000000 00 0000000000000000 0500000000 05")
	if len(pkt) != 20 {
		t.Fatalf("packet is %d bytes", len(pkt))
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	const runs = 100
	for i := 0; i < runs; i++ {
		if _, err := Decode0(pkt); !errors.Is(err, ErrTooLong) {
			t.Fatalf("err = %v", err)
		}
	}
	elapsed := time.Since(start) / runs
	runtime.ReadMemStats(&after)
	perRun := (after.TotalAlloc - before.TotalAlloc) / runs
	if perRun >= 1<<20 {
		t.Fatalf("allocated %d bytes per decode", perRun)
	}
	allocs := testing.AllocsPerRun(runs, func() { _, _ = Decode0(pkt) })
	t.Logf("%d bytes, %.0f allocs, %v per decode", perRun, allocs, elapsed)
}

// TestAllocationBound decodes worst-case shapes and checks that the bytes
// allocated stay within a small multiple of the input length.
func TestAllocationBound(t *testing.T) {
	many := func(head []byte, item string, n int) []byte {
		return append(head, bytes.Repeat(hx(item), n)...)
	}
	u29 := func(v uint32) []byte {
		e := &encoder{}
		e.u29(v)
		return e.buf
	}
	n := 100000
	arr3 := cat(hx("09"), u29(uint32(n)<<1|1), hx("01"))
	cases := map[string][]byte{
		"amf0 strict array of nulls": many(hx("0a 000186a0"), "05", n),
		"amf3 dense array of nulls":  many(arr3, "01", n),
		"amf0 top-level nulls":       many(nil, "05", n),
		// One traits definition with 8 sealed members, then objects that
		// reuse it through a one-byte traits reference.
		"amf3 traits references": many(cat(arr3, hx("0a"), u29(8<<4|0x03), hx("01"), hx("03 61 03 62 03 63 03 64 03 65 03 66 03 67 03 68"),
			hx("01 01 01 01 01 01 01 01")), "0a 01 01 01 01 01 01 01 01 01", n-1),
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			decode := Decode3
			if strings.HasPrefix(name, "amf0") {
				decode = Decode0
			}
			if _, err := decode(in); err != nil {
				t.Fatalf("decode: %v", err)
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, _ = decode(in)
			runtime.ReadMemStats(&after)
			ratio := float64(after.TotalAlloc-before.TotalAlloc) / float64(len(in))
			t.Logf("%d input bytes, %.1fx allocated", len(in), ratio)
			if ratio > 64 {
				t.Fatalf("allocated %.1fx the input", ratio)
			}
		})
	}
}

func TestDepthLimit(t *testing.T) {
	nest := func(open string, n int) []byte { return bytes.Repeat(hx(open), n) }
	deep0 := append(nest("0a 00000001", 65), 0x05)
	if _, err := Decode0(deep0); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("amf0 65 deep: %v", err)
	}
	ok0 := append(nest("0a 00000001", 64), 0x05)
	if _, err := Decode0(ok0); err != nil {
		t.Fatalf("amf0 64 deep: %v", err)
	}
	if _, err := Decode0Limits(ok0, Limits{MaxDepth: 10}); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("amf0 limit 10: %v", err)
	}
	deep3 := append(nest("09 03 01", 65), 0x01)
	if _, err := Decode3(deep3); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("amf3 65 deep: %v", err)
	}
	// A million nested arrays must not exhaust the stack.
	if _, err := Decode0(nest("0a 00000001", 1<<20)); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("amf0 1M deep: %v", err)
	}
}

func TestLimits(t *testing.T) {
	if _, err := Decode0Limits(hx("05 05 05"), Limits{MaxElements: 2}); !errors.Is(err, ErrTooManyElements) {
		t.Errorf("MaxElements: %v", err)
	}
	if _, err := Decode0Limits(cat(hx("02 0003"), "abc"), Limits{MaxStringLen: 2}); !errors.Is(err, ErrTooLong) {
		t.Errorf("MaxStringLen: %v", err)
	}
	if _, err := Decode3Limits(hx("0c 07 010203"), Limits{MaxStringLen: 2}); !errors.Is(err, ErrTooLong) {
		t.Errorf("MaxStringLen byte array: %v", err)
	}
}

func TestEncodeErrors(t *testing.T) {
	cyclic := []any{nil}
	cyclic[0] = cyclic
	cases := []struct {
		name string
		enc  func(dst []byte, vals ...any) ([]byte, error)
		val  any
		err  error
		path string
	}{
		{"amf0 unsupported type", Encode0, NewObject("a", []any{struct{}{}}), ErrUnsupportedValue, "[0].a[0]"},
		{"amf3 unsupported type", Encode3, NewObject("a", make(chan int)), ErrUnsupportedValue, "[0].a"},
		{"amf0 cyclic slice", Encode0, cyclic, ErrTooDeep, ""},
		{"amf3 cyclic slice", Encode3, cyclic, ErrTooDeep, ""},
		{"amf0 key too long", Encode0, NewObject(strings.Repeat("k", 70000), 1), ErrValueTooLarge, "[0]"},
		{"amf3 empty key in ecma array", Encode3, &ECMAArray{Props: []Prop{{"", 1}}}, ErrUnsupportedValue, "[0]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.enc(nil, tc.val)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			var ee *EncodeError
			if !errors.As(err, &ee) {
				t.Fatalf("err %T", err)
			}
			if tc.path != "" && ee.Path != tc.path {
				t.Errorf("path = %q, want %q", ee.Path, tc.path)
			}
		})
	}
}

func TestEncodeCyclicObject(t *testing.T) {
	o := NewObject("name", "x")
	o.Set("self", o)
	for name, enc := range map[string]func([]byte, ...any) ([]byte, error){"amf0": Encode0, "amf3": Encode3} {
		b, err := enc(nil, o)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		dec := Decode0
		if name == "amf3" {
			dec = Decode3
		}
		got, err := dec(b)
		if err != nil {
			t.Fatalf("%s decode: %v", name, err)
		}
		g := got[0].(*Object)
		if self, _ := g.Get("self"); self != g {
			t.Fatalf("%s: self reference lost", name)
		}
	}
}
