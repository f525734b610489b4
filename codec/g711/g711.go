package g711

// EncodeULaw returns the μ-law code of the 16-bit sample x.
func EncodeULaw(x int16) byte { return ulawEncTable[uint16(x)>>2] }

// DecodeULaw returns the 16-bit sample of the μ-law code c.
func DecodeULaw(c byte) int16 { return ulawDecTable[c] }

// EncodeALaw returns the A-law code of the 16-bit sample x.
func EncodeALaw(x int16) byte { return alawEncTable[uint16(x)>>3] }

// DecodeALaw returns the 16-bit sample of the A-law code c.
func DecodeALaw(c byte) int16 { return alawDecTable[c] }

// AppendULaw appends the μ-law codes of pcm to dst.
func AppendULaw(dst []byte, pcm []int16) []byte {
	dst = grow(dst, len(pcm))
	out := dst[len(dst)-len(pcm):]
	for i, x := range pcm {
		out[i] = ulawEncTable[uint16(x)>>2]
	}
	return dst
}

// AppendALaw appends the A-law codes of pcm to dst.
func AppendALaw(dst []byte, pcm []int16) []byte {
	dst = grow(dst, len(pcm))
	out := dst[len(dst)-len(pcm):]
	for i, x := range pcm {
		out[i] = alawEncTable[uint16(x)>>3]
	}
	return dst
}

// AppendULawPCM appends the samples of the μ-law codes in b to dst.
func AppendULawPCM(dst []int16, b []byte) []int16 {
	dst = grow(dst, len(b))
	out := dst[len(dst)-len(b):]
	for i, c := range b {
		out[i] = ulawDecTable[c]
	}
	return dst
}

// AppendALawPCM appends the samples of the A-law codes in b to dst.
func AppendALawPCM(dst []int16, b []byte) []int16 {
	dst = grow(dst, len(b))
	out := dst[len(dst)-len(b):]
	for i, c := range b {
		out[i] = alawDecTable[c]
	}
	return dst
}

// grow extends s by n elements, reallocating only when its capacity is short.
func grow[T any](s []T, n int) []T {
	if cap(s)-len(s) < n {
		s = append(s[:cap(s)], make([]T, n-(cap(s)-len(s)))...)[:len(s)]
	}
	return s[:len(s)+n]
}
