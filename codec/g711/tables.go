package g711

import "math/bits"

// Tables, computed at start-up from the G.711 segment formulas. They are
// never written after initialisation.
var (
	ulawEncTable = buildULawEnc() // indexed by uint16(x)>>2
	alawEncTable = buildALawEnc() // indexed by uint16(x)>>3
	ulawDecTable = buildULawDec()
	alawDecTable = buildALawDec()
)

// ulawEncode14 encodes the 14-bit two's complement sample v (-8192..8191).
func ulawEncode14(v int) byte {
	sign := byte(0x80)
	if v < 0 {
		v, sign = ^v, 0 // one's complement magnitude: -1 → 0
	}
	mag := min(v+33, 0x1FFF)       // biased magnitude 33..8191
	seg := bits.Len(uint(mag)) - 6 // 0..7: mag is in [32<<seg, 64<<seg)
	mant := (mag >> (seg + 1)) & 0x0F
	return ^(byte(seg<<4|mant) | 0x80) | sign
}

// alawEncode13 encodes the 13-bit two's complement sample v (-4096..4095).
func alawEncode13(v int) byte {
	sign := byte(0x80)
	if v < 0 {
		v, sign = ^v, 0
	}
	v >>= 1 // 12-bit magnitude 0..2047 in units of 2 (the first two segments share a step)
	var code int
	if v < 16 {
		code = v
	} else {
		seg := bits.Len(uint(v)) - 4 // 1..7
		code = seg<<4 | (v>>(seg-1))&0x0F
	}
	return (byte(code) | sign) ^ 0x55
}

func ulawDecode(c byte) int16 {
	u := ^c
	seg := int(u>>4) & 7
	mag := ((int(u&0x0F)<<1 + 33) << seg) - 33 // 14-bit magnitude
	if u&0x80 != 0 {
		return int16(-mag << 2)
	}
	return int16(mag << 2)
}

func alawDecode(c byte) int16 {
	a := c ^ 0x55
	seg := int(a>>4) & 7
	mag := int(a&0x0F)<<1 + 1 // 12-bit code, in units of 2 (13-bit)
	if seg > 0 {
		mag = (mag + 32) << (seg - 1)
	}
	if a&0x80 == 0 {
		return int16(-mag << 3)
	}
	return int16(mag << 3)
}

func buildULawEnc() *[1 << 14]byte {
	var t [1 << 14]byte
	for i := range t {
		t[i] = ulawEncode14(int(int16(uint16(i)<<2)) >> 2)
	}
	return &t
}

func buildALawEnc() *[1 << 13]byte {
	var t [1 << 13]byte
	for i := range t {
		t[i] = alawEncode13(int(int16(uint16(i)<<3)) >> 3)
	}
	return &t
}

func buildULawDec() *[256]int16 {
	var t [256]int16
	for i := range t {
		t[i] = ulawDecode(byte(i))
	}
	return &t
}

func buildALawDec() *[256]int16 {
	var t [256]int16
	for i := range t {
		t[i] = alawDecode(byte(i))
	}
	return &t
}
