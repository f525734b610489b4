package nellymoser

import "encoding/binary"

// Bits are packed least significant bit first (FFmpeg BITSTREAM_READER_LE /
// BITSTREAM_WRITER_LE): the first field sits in the low bits of byte 0.

// bitReader reads fields of up to 24 bits from one block. Reads past the
// block return zero bits.
type bitReader struct {
	b   [BlockSize + 8]byte // zero padded so most reads are one load
	pos uint
}

func (r *bitReader) reset(block []byte, pos uint) {
	copy(r.b[:BlockSize], block)
	r.pos = pos
}

func (r *bitReader) seek(pos uint) { r.pos = pos }

func (r *bitReader) read(n int32) uint32 {
	i := r.pos >> 3
	var w uint32
	if i+4 <= uint(len(r.b)) {
		w = binary.LittleEndian.Uint32(r.b[i:])
	}
	v := (w >> (r.pos & 7)) & (1<<uint32(n) - 1)
	r.pos += uint(n)
	return v
}

// bitWriter appends fields to one 64-byte block.
type bitWriter struct {
	b   *[BlockSize]byte
	acc uint64
	n   uint // bits in acc
	pos uint // bytes written
}

func (w *bitWriter) write(n int32, v uint32) {
	w.acc |= uint64(v) << w.n
	w.n += uint(n)
	for w.n >= 8 {
		if w.pos < BlockSize {
			w.b[w.pos] = byte(w.acc)
		}
		w.pos++
		w.acc >>= 8
		w.n -= 8
	}
}

// count returns the number of bits written so far.
func (w *bitWriter) count() uint { return w.pos*8 + w.n }

// flush writes the pending bits and zeroes the rest of the block.
func (w *bitWriter) flush() {
	if w.n > 0 && w.pos < BlockSize {
		w.b[w.pos] = byte(w.acc)
		w.pos++
	}
	for ; w.pos < BlockSize; w.pos++ {
		w.b[w.pos] = 0
	}
	w.acc, w.n = 0, 0
}
