package nellymoser

import "math/bits"

// Bit allocation shared by the decoder and the encoder. Both sides derive
// the number of bits of every coefficient from the band exponents alone, so
// the allocation must be reproduced bit for bit. This follows the integer
// algorithm of FFmpeg's ff_nelly_get_sample_bits (libavcodec/nellymoser.c):
// the exponents are scaled to 16-bit fixed point, an offset is searched
// (secant steps, then bisection, 20 rounds at most) so that
// Σ clip(round((e_i-off)/2^shift), 0, 6) is as close to 198 as possible, and
// an overshoot is cut from the top.
//
// C's int/short arithmetic is reproduced with int32/int16 wrap-around and
// shift counts masked to 0..31 as x86 does, so hostile input cannot make a
// Go shift panic.

// shl returns x << n as C's (unsigned)x << n does on x86.
func shl(x int32, n int32) int32 { return int32(uint32(x) << (uint32(n) & 31)) }

// sar returns x >> n (arithmetic) with an x86-masked count.
func sar(x int32, n int32) int32 { return x >> (uint32(n) & 31) }

// signedShift shifts left for positive n and right for negative n.
func signedShift(x int32, n int32) int32 {
	if n > 0 {
		return shl(x, n)
	}
	return sar(x, -n)
}

// headroom normalizes *v so that its top bit is bit 30 and returns the shift.
func headroom(v *int32) int32 {
	if *v == 0 {
		return 31
	}
	a := *v
	if a < 0 {
		a = -a
	}
	l := 30 - log2u(uint32(a))
	*v *= shl(1, l)
	return l
}

// log2u is av_log2: the index of the highest set bit (0 for 0).
func log2u(v uint32) int32 { return int32(max(bits.Len32(v)-1, 0)) }

// quantBits rounds (s-off)/2^shift and clips it to 0..bitCap.
func quantBits(s, off, shift int32) int32 {
	b := (sar(s-off, shift-1) + 1) >> 1
	return min(max(b, 0), bitCap)
}

// sumBits is the total allocation for offset off; off is a C short there.
// Exponents are constant within a band, so each band counts size times.
func sumBits(sbuf *[numBands]int16, shift int16, off int32) int32 {
	o := int32(int16(off))
	sh := int32(shift)
	ret := int32(0)
	for band, s := range sbuf {
		ret += int32(bandSizes[band]) * quantBits(int32(s), o, sh)
	}
	return ret
}

func abs32(x int32) int32 {
	if x < 0 {
		return -x
	}
	return x
}

// allocBits fills alloc, the bits of each of the 124 coded coefficients,
// from the band exponents. FFmpeg works on the 124 per-coefficient copies
// of the exponents; sums over them are sums over bands weighted by size,
// with the same int32 wrap-around. One function on purpose: it follows the
// reference bit allocation step by step, so the two can be compared.
func allocBits(exps *[numBands]int32, alloc *[fillLen]int32) {
	var sbuf [numBands]int16

	mx := int32(0)
	for _, e := range exps {
		mx = max(mx, e)
	}
	shift := int16(-16)
	shift += int16(headroom(&mx))

	sum := int32(0)
	for band, e := range exps {
		s := int16(signedShift(e, int32(shift)))
		s = int16((3 * int32(s)) >> 2)
		sbuf[band] = s
		sum += int32(bandSizes[band]) * int32(s)
	}

	shift += 11
	shiftSaved := shift
	sum -= shl(detailBits, int32(shift))
	shift += int16(headroom(&sum))
	smallOff := (baseOff * (sum >> 16)) >> 15
	shift = shiftSaved - (baseShift + shift - 31)
	smallOff = signedShift(smallOff, int32(shift))

	bitsum := sumBits(&sbuf, shiftSaved, smallOff)
	if bitsum != detailBits {
		off := bitsum - detailBits
		for shift = 0; abs32(off) <= 16383; shift++ {
			off *= 2
		}
		off = (off * baseOff) >> 15
		shift = shiftSaved - (baseShift + shift - 15)
		off = signedShift(off, int32(shift))

		var lastOff, lastBitsum int32
		j := 1
		for ; j < 20; j++ {
			lastOff = smallOff
			smallOff += off
			lastBitsum = bitsum
			bitsum = sumBits(&sbuf, shiftSaved, smallOff)
			if (bitsum-detailBits)*(lastBitsum-detailBits) <= 0 {
				break
			}
		}

		var bigOff, bigBitsum, smallBitsum int32
		if bitsum > detailBits {
			bigOff = smallOff
			smallOff = lastOff
			bigBitsum = bitsum
			smallBitsum = lastBitsum
		} else {
			bigOff = lastOff
			bigBitsum = lastBitsum
			smallBitsum = bitsum
		}

		for bitsum != detailBits && j <= 19 {
			off = (bigOff + smallOff) >> 1
			bitsum = sumBits(&sbuf, shiftSaved, off)
			if bitsum > detailBits {
				bigOff = off
				bigBitsum = bitsum
			} else {
				smallOff = off
				smallBitsum = bitsum
			}
			j++
		}

		if abs32(bigBitsum-detailBits) >= abs32(smallBitsum-detailBits) {
			bitsum = smallBitsum
		} else {
			smallOff = bigOff
			bitsum = bigBitsum
		}
	}

	i := 0
	for band, s := range sbuf {
		b := quantBits(int32(s), smallOff, int32(shiftSaved))
		for range bandSizes[band] {
			alloc[i] = b
			i++
		}
	}

	if bitsum > detailBits {
		// Cut the allocation at the coefficient that reaches 198 bits. The
		// bound on i only matters for hostile exponents, where the sum over
		// the final offset can differ from bitsum (C truncates off to short).
		tot := int32(0)
		i = 0
		for tot < detailBits && i < fillLen {
			tot += alloc[i]
			i++
		}
		if tot > detailBits {
			alloc[i-1] -= tot - detailBits
		}
		for ; i < fillLen; i++ {
			alloc[i] = 0
		}
	}
}
