package sipbridge

import (
	"errors"
	"fmt"
)

// Speex over RTP (RFC 5574): a packet holds one or more Speex frames
// concatenated bit by bit, padded to a byte boundary with a 0 bit then 1
// bits (section 3.4). Flash sends one 20 ms wideband frame per RTMP
// message and its decoder expects that, so a packet of several frames is
// split into byte-aligned frames before it goes to the hub; a packet of
// one frame passes untouched.
//
// Frame lengths come from the Speex bitstream (Speex manual, "Bit-stream"
// and "In-band signalling"): a narrowband layer starts with a 0 bit and a
// 4-bit mode whose size is fixed; a wideband layer follows it with a 1 bit
// and a 3-bit mode. Modes 13 (user in-band, 4-bit length in bytes) and 14
// (speex in-band, 4-bit code) are skipped; 15 ends the packet.

// Frame sizes in bits, the 5 mode bits included (narrowband modes 0..8).
var speexNBBits = [9]int{5, 43, 119, 160, 220, 300, 364, 492, 79}

// Wideband layer sizes in bits, the 4 mode bits included (modes 0..4).
var speexWBBits = [5]int{4, 36, 112, 192, 352}

// maxSpeexFrames bounds the frames one packet may yield (a 1500-byte
// packet of mode-0 frames could hold ~2400; real senders put a few).
const maxSpeexFrames = 32

var errSpeexBits = errors.New("sip: malformed speex payload")

// speexBits reads a byte slice most significant bit first.
type speexBits struct {
	b   []byte
	pos int // in bits
}

func (r *speexBits) left() int { return len(r.b)*8 - r.pos }

func (r *speexBits) read(n int) uint {
	var v uint
	for range n {
		v = v<<1 | uint(r.b[r.pos>>3]>>(7-r.pos&7)&1)
		r.pos++
	}
	return v
}

// speexFrameEnd returns the bit position after the frame starting at pos,
// or ok false at the end of the packet (padding or a terminator).
func speexFrameEnd(b []byte, pos int) (end int, ok bool, err error) {
	r := speexBits{b: b, pos: pos}
	for {
		if r.left() < 5 || isPadding(b, r.pos) {
			return 0, false, nil
		}
		if r.read(1) == 1 {
			return 0, false, fmt.Errorf("%w: wideband layer without a narrowband frame at bit %d", errSpeexBits, r.pos-1)
		}
		switch m := int(r.read(4)); {
		case m == 15: // terminator
			return 0, false, nil
		case m == 14: // in-band signal: a 4-bit code and its data
			if r.left() < 4 {
				return 0, false, fmt.Errorf("%w: in-band signal truncated", errSpeexBits)
			}
			if n := inbandDataBits(r.read(4)); r.left() >= n {
				r.pos += n
				continue
			}
			return 0, false, fmt.Errorf("%w: in-band signal truncated", errSpeexBits)
		case m == 13: // user in-band data: a 4-bit length in bytes
			if r.left() < 4 {
				return 0, false, fmt.Errorf("%w: user data truncated", errSpeexBits)
			}
			if n := 8 * int(r.read(4)); r.left() >= n {
				r.pos += n
				continue
			}
			return 0, false, fmt.Errorf("%w: user data truncated", errSpeexBits)
		case m >= len(speexNBBits):
			return 0, false, fmt.Errorf("%w: narrowband mode %d", errSpeexBits, m)
		default:
			n := speexNBBits[m] - 5
			if r.left() < n {
				return 0, false, fmt.Errorf("%w: frame of mode %d truncated", errSpeexBits, m)
			}
			r.pos += n
		}
		break
	}
	// Extension layers (wideband, then ultra-wideband): a 1 bit and a
	// 3-bit mode each, the same sizes for both.
	for range 2 {
		if r.left() < 4 || isPadding(b, r.pos) || r.b[r.pos>>3]>>(7-r.pos&7)&1 == 0 {
			break
		}
		r.read(1)
		m := int(r.read(3))
		if m >= len(speexWBBits) {
			return 0, false, fmt.Errorf("%w: wideband mode %d", errSpeexBits, m)
		}
		n := speexWBBits[m] - 4
		if r.left() < n {
			return 0, false, fmt.Errorf("%w: wideband layer of mode %d truncated", errSpeexBits, m)
		}
		r.pos += n
	}
	return r.pos, true, nil
}

// isPadding reports whether the bits from pos to the end are the padding
// to a byte boundary: fewer than 8, a 0 then 1s, or all 1s (some senders).
func isPadding(b []byte, pos int) bool {
	r := speexBits{b: b, pos: pos}
	if r.left() >= 8 {
		return false
	}
	if r.left() > 0 && peekBit(b, r.pos) == 0 {
		r.read(1)
	}
	for r.left() > 0 {
		if r.read(1) == 0 {
			return false
		}
	}
	return true
}

func peekBit(b []byte, pos int) byte { return b[pos>>3] >> (7 - pos&7) & 1 }

// inbandDataBits is the data following in-band code c (Speex manual, table
// "In-band signalling codes").
func inbandDataBits(c uint) int {
	switch {
	case c < 2:
		return 1
	case c < 8:
		return 4
	case c < 10:
		return 8
	case c < 12:
		return 16
	case c < 14:
		return 32
	}
	return 64
}

// splitSpeex appends to dst the frames of an RTP Speex payload, each
// byte-aligned and padded as RFC 5574 3.4 says. A payload of one frame is
// returned as it is (not copied).
func splitSpeex(dst [][]byte, payload []byte) ([][]byte, error) {
	var ends []int
	pos := 0
	for {
		end, ok, err := speexFrameEnd(payload, pos)
		if err != nil {
			return dst, err
		}
		if !ok {
			break
		}
		if len(ends) == maxSpeexFrames {
			return dst, fmt.Errorf("%w: more than %d frames", errSpeexBits, maxSpeexFrames)
		}
		ends = append(ends, end)
		pos = end
	}
	switch len(ends) {
	case 0:
		return dst, fmt.Errorf("%w: no frame", errSpeexBits)
	case 1:
		return append(dst, payload), nil
	}
	pos = 0
	for _, end := range ends {
		dst = append(dst, copyBits(payload, pos, end))
		pos = end
	}
	return dst, nil
}

// copyBits returns bits [from, to) of b in new bytes, padded with a 0 and
// then 1s (the Speex terminator pattern) to the byte boundary.
func copyBits(b []byte, from, to int) []byte {
	n := to - from
	out := make([]byte, (n+7)/8)
	r := speexBits{b: b, pos: from}
	for i := range n {
		if r.read(1) == 1 {
			out[i>>3] |= 1 << (7 - i&7)
		}
	}
	for i := n + 1; i < len(out)*8; i++ {
		out[i>>3] |= 1 << (7 - i&7)
	}
	return out
}
