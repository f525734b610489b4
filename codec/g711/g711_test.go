package g711

import (
	"testing"
)

// The reference implementations below transcribe the ITU-T G.191 (STL)
// g711.c formulas literally, independently of tables.go.

func refULawCompress(x int16) byte {
	var absno int
	if x < 0 {
		absno = int(^x)>>2 + 33
	} else {
		absno = int(x)>>2 + 33
	}
	if absno > 0x1FFF {
		absno = 0x1FFF
	}
	i := absno >> 6
	segno := 1
	for i != 0 {
		segno++
		i >>= 1
	}
	high := 0x8 - segno
	low := 0xF - (absno>>segno)&0xF
	c := high<<4 | low
	if x >= 0 {
		c |= 0x80
	}
	return byte(c)
}

func refULawExpand(c byte) int16 {
	sign := 1
	if c < 0x80 {
		sign = -1
	}
	m := int(^c)
	exponent := (m >> 4) & 7
	segment := exponent + 1
	m &= 0xF
	step := 4 << segment
	return int16(sign * ((0x80 << exponent) + step*m + step/2 - 4*33))
}

func refALawCompress(x int16) byte {
	var ix int
	if x < 0 {
		ix = int(^x) >> 4
	} else {
		ix = int(x) >> 4
	}
	if ix > 15 {
		iexp := 1
		for ix > 16+15 {
			ix >>= 1
			iexp++
		}
		ix -= 16
		ix += iexp << 4
	}
	if x >= 0 {
		ix |= 0x80
	}
	return byte(ix ^ 0x55)
}

func refALawExpand(c byte) int16 {
	ix := int(c^0x55) & 0x7F
	iexp := ix >> 4
	mant := ix & 0xF
	if iexp > 0 {
		mant += 16
	}
	mant = mant<<4 + 8
	if iexp > 1 {
		mant <<= iexp - 1
	}
	if c > 127 {
		return int16(mant)
	}
	return int16(-mant)
}

func TestTablesMatchFormulasAllInputs(t *testing.T) {
	for i := range 1 << 16 {
		x := int16(uint16(i))
		if got, want := EncodeULaw(x), refULawCompress(x); got != want {
			t.Fatalf("EncodeULaw(%d) = %#x, want %#x", x, got, want)
		}
		if got, want := EncodeALaw(x), refALawCompress(x); got != want {
			t.Fatalf("EncodeALaw(%d) = %#x, want %#x", x, got, want)
		}
	}
	for i := range 256 {
		c := byte(i)
		if got, want := DecodeULaw(c), refULawExpand(c); got != want {
			t.Fatalf("DecodeULaw(%#x) = %d, want %d", c, got, want)
		}
		if got, want := DecodeALaw(c), refALawExpand(c); got != want {
			t.Fatalf("DecodeALaw(%#x) = %d, want %d", c, got, want)
		}
	}
}

func TestKnownValues(t *testing.T) {
	cases := []struct {
		name string
		got  int
		want int
	}{
		{"ulaw(0)", int(EncodeULaw(0)), 0xFF},
		{"ulaw(-1)", int(EncodeULaw(-1)), 0x7F},
		{"alaw(0)", int(EncodeALaw(0)), 0xD5},
		{"alaw(-1)", int(EncodeALaw(-1)), 0x55},
		{"ulaw(32767)", int(EncodeULaw(32767)), 0x80},
		{"ulaw(-32768)", int(EncodeULaw(-32768)), 0x00},
		{"alaw(32767)", int(EncodeALaw(32767)), 0xAA},
		{"alaw(-32768)", int(EncodeALaw(-32768)), 0x2A},
		{"ulaw^-1(0x80)", int(DecodeULaw(0x80)), 32124},
		{"ulaw^-1(0xFF)", int(DecodeULaw(0xFF)), 0},
		{"alaw^-1(0xAA)", int(DecodeALaw(0xAA)), 32256},
		{"alaw^-1(0xD5)", int(DecodeALaw(0xD5)), 8},
		{"alaw^-1(0x55)", int(DecodeALaw(0x55)), -8},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s = %#x, want %#x", c.name, c.got, c.want)
		}
	}
}

// Every code decodes to a value that encodes back to the same code (except
// μ-law's negative zero 0x7F, which decodes to 0 and encodes as 0xFF).
func TestRoundTripCodes(t *testing.T) {
	for i := range 256 {
		c := byte(i)
		if got := EncodeULaw(DecodeULaw(c)); got != c && c != 0x7F {
			t.Errorf("ulaw %#x → %d → %#x", c, DecodeULaw(c), got)
		}
		if got := EncodeALaw(DecodeALaw(c)); got != c {
			t.Errorf("alaw %#x → %d → %#x", c, DecodeALaw(c), got)
		}
	}
}
