package speex

/*
#cgo pkg-config: speex speexdsp
#include <stdlib.h>
#include <speex/speex.h>
#include <speex/speex_bits.h>

// fv_decode decodes up to max_frames frames of frame_size samples from the
// packet into out, the way speexdec loops over a packet: it stops when fewer
// than 5 bits remain or the next 5 bits are a terminator (0 1111).
// It returns n<<4 | s: n the number of frames decoded and s the status,
// 0 (clean end), 1 (end of stream code), 2 (corrupt frame), 3 (overflow: a
// frame ran past the end) or 4 (more than max_frames frames). Packing both
// in the result keeps the cgo call free of Go heap allocations.
static int fv_decode(void *st, SpeexBits *bits, const char *pkt, int len,
                     spx_int16_t *out, int frame_size, int max_frames) {
	int n = 0;
	speex_bits_read_from(bits, pkt, len);
	for (;;) {
		if (speex_bits_remaining(bits) < 5 || speex_bits_peek_unsigned(bits, 5) == 0xF)
			return n << 4;
		if (n == max_frames)
			return n << 4 | 4;
		int ret = speex_decode_int(st, bits, out + n * frame_size);
		if (ret < 0)
			return n << 4 | (ret < -2 ? 2 : -ret);
		if (speex_bits_remaining(bits) < 0)
			return n << 4 | 3;
		n++;
	}
}

// fv_encode encodes one frame and writes it, padded with the terminator
// pattern, to out. It returns the number of bytes written.
static int fv_encode(void *st, SpeexBits *bits, spx_int16_t *in, char *out, int max) {
	speex_bits_reset(bits);
	speex_encode_int(st, in, bits);
	return speex_bits_write(bits, out, max);
}

static int fv_ctl_int(void *st, int enc, int req, int v) {
	return enc ? speex_encoder_ctl(st, req, &v) : speex_decoder_ctl(st, req, &v);
}

static int fv_get_int(void *st, int enc, int req) {
	int v = 0;
	if (enc)
		speex_encoder_ctl(st, req, &v);
	else
		speex_decoder_ctl(st, req, &v);
	return v;
}

static SpeexBits *fv_bits_new(void) {
	SpeexBits *b = malloc(sizeof(SpeexBits));
	if (b)
		speex_bits_init(b);
	return b;
}

static void fv_bits_free(SpeexBits *b) {
	speex_bits_destroy(b);
	free(b);
}
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/flashvox/flashvox/codec"
)

// cState is the C memory of one encoder or decoder.
type cState struct {
	st   unsafe.Pointer
	bits *C.SpeexBits
	enc  bool
}

func (c cState) free() {
	if c.st != nil {
		if c.enc {
			C.speex_encoder_destroy(c.st)
		} else {
			C.speex_decoder_destroy(c.st)
		}
	}
	if c.bits != nil {
		C.fv_bits_free(c.bits)
	}
}

func (c cState) ctl(req, v int) {
	C.fv_ctl_int(c.st, cBool(c.enc), C.int(req), C.int(v))
}

func (c cState) get(req int) int {
	return int(C.fv_get_int(c.st, cBool(c.enc), C.int(req)))
}

func cBool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// modeFor returns the libspeex mode for rate.
func modeFor(rate int) (*C.SpeexMode, error) {
	var id C.int
	switch rate {
	case 8000:
		id = C.SPEEX_MODEID_NB
	case 16000:
		id = C.SPEEX_MODEID_WB
	case 32000:
		id = C.SPEEX_MODEID_UWB
	default:
		return nil, fmt.Errorf("%w: speex at %d Hz (8000, 16000 or 32000)", codec.ErrUnsupportedRate, rate)
	}
	return C.speex_lib_get_mode(id), nil
}

func newState(rate int, enc bool) (cState, error) {
	mode, err := modeFor(rate)
	if err != nil {
		return cState{}, err
	}
	c := cState{enc: enc, bits: C.fv_bits_new()}
	if enc {
		c.st = C.speex_encoder_init(mode)
	} else {
		c.st = C.speex_decoder_init(mode)
	}
	if c.st == nil || c.bits == nil {
		c.free()
		return cState{}, fmt.Errorf("speex: out of memory")
	}
	return c, nil
}

// decode runs fv_decode on pkt, writing up to most frames of frame samples
// into out (len(out) >= most*frame). pkt must not be empty.
func (c cState) decode(pkt []byte, out []int16, frame, most int) (frames, status int) {
	r := int(C.fv_decode(c.st, c.bits, (*C.char)(unsafe.Pointer(&pkt[0])), C.int(len(pkt)),
		(*C.spx_int16_t)(unsafe.Pointer(&out[0])), C.int(frame), C.int(most)))
	return r >> 4, r & 15
}

// conceal writes one frame of packet-loss concealment to out.
func (c cState) conceal(out []int16) {
	C.speex_decode_int(c.st, nil, (*C.spx_int16_t)(unsafe.Pointer(&out[0])))
}

// encode encodes pcm (one frame) into out and returns the bytes written.
func (c cState) encode(pcm []int16, out []byte) int {
	return int(C.fv_encode(c.st, c.bits, (*C.spx_int16_t)(unsafe.Pointer(&pcm[0])),
		(*C.char)(unsafe.Pointer(&out[0])), C.int(len(out))))
}

// frameSize returns SPEEX_GET_FRAME_SIZE.
func (c cState) frameSize() int { return c.get(C.SPEEX_GET_FRAME_SIZE) }

// configureEncoder sets constant bitrate, quality and complexity.
func (c cState) configureEncoder(quality, complexity int) {
	c.ctl(C.SPEEX_SET_VBR, 0)
	c.ctl(C.SPEEX_SET_QUALITY, quality)
	c.ctl(C.SPEEX_SET_COMPLEXITY, complexity)
}
