//go:build cgo

package opus

/*
#cgo pkg-config: opus
#include <opus.h>

// opus_encoder_ctl and opus_decoder_ctl are variadic: cgo cannot call them.
static int fv_enc_set(OpusEncoder *st, int req, int v) { return opus_encoder_ctl(st, req, v); }
static int fv_dec_last_duration(OpusDecoder *st) {
	opus_int32 v = 0;
	opus_decoder_ctl(st, OPUS_GET_LAST_PACKET_DURATION(&v));
	return v;
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// cState is the C memory of one encoder or decoder.
type cState struct {
	enc *C.OpusEncoder
	dec *C.OpusDecoder
}

func newState(rate int, encoder bool) (cState, error) {
	var e C.int
	var c cState
	if encoder {
		c.enc = C.opus_encoder_create(C.opus_int32(rate), 1, C.OPUS_APPLICATION_VOIP, &e)
	} else {
		c.dec = C.opus_decoder_create(C.opus_int32(rate), 1, &e)
	}
	if e != C.OPUS_OK || (c.enc == nil && c.dec == nil) {
		c.free()
		return cState{}, fmt.Errorf("opus: create at %d Hz: %s", rate, C.GoString(C.opus_strerror(e)))
	}
	return c, nil
}

func (c cState) ok() bool { return c.enc != nil || c.dec != nil }

func (c cState) free() {
	if c.enc != nil {
		C.opus_encoder_destroy(c.enc)
	}
	if c.dec != nil {
		C.opus_decoder_destroy(c.dec)
	}
}

// decode decodes pkt (nil: conceal one frame of frame samples) into out and
// returns the samples written, or a negative libopus error code.
func (c cState) decode(pkt []byte, out []int16) int {
	var p *C.uchar
	if len(pkt) > 0 {
		p = (*C.uchar)(unsafe.Pointer(&pkt[0]))
	}
	return int(C.opus_decode(c.dec, p, C.opus_int32(len(pkt)), (*C.opus_int16)(unsafe.Pointer(&out[0])), C.int(len(out)), 0))
}

// decodeFEC decodes the in-band FEC data of pkt, exactly len(out)
// samples (the lost frame's length), into out.
func (c cState) decodeFEC(pkt []byte, out []int16) int {
	return int(C.opus_decode(c.dec, (*C.uchar)(unsafe.Pointer(&pkt[0])), C.opus_int32(len(pkt)), (*C.opus_int16)(unsafe.Pointer(&out[0])), C.int(len(out)), 1))
}

// lastDuration is the length in samples of the last packet decoded.
func (c cState) lastDuration() int { return int(C.fv_dec_last_duration(c.dec)) }

// encode encodes one frame of pcm into out and returns the bytes written,
// or a negative libopus error code.
func (c cState) encode(pcm []int16, out []byte) int {
	return int(C.opus_encode(c.enc, (*C.opus_int16)(unsafe.Pointer(&pcm[0])), C.int(len(pcm)),
		(*C.uchar)(unsafe.Pointer(&out[0])), C.opus_int32(len(out))))
}

// set is one encoder control request.
func (c cState) set(name string, req C.int, v int) error {
	if r := C.fv_enc_set(c.enc, req, C.int(v)); r != C.OPUS_OK {
		return fmt.Errorf("opus: %s %d: %s", name, v, C.GoString(C.opus_strerror(r)))
	}
	return nil
}

// setLoss turns in-band FEC on for an expected loss of pct (off at 0)
// and sets the bitrate (0: libopus's own choice).
func (c cState) setLoss(pct, bitrate int) error {
	if bitrate == 0 {
		bitrate = C.OPUS_AUTO
	}
	if err := c.set("bitrate", C.OPUS_SET_BITRATE_REQUEST, bitrate); err != nil {
		return err
	}
	if err := c.set("inband FEC", C.OPUS_SET_INBAND_FEC_REQUEST, min(pct, 1)); err != nil {
		return err
	}
	return c.set("packet loss", C.OPUS_SET_PACKET_LOSS_PERC_REQUEST, pct)
}

// configureEncoder applies o (zero fields keep libopus's defaults: its
// own bitrate, FEC off, no loss expected).
func (c cState) configureEncoder(o EncoderOptions) error {
	if err := c.setLoss(o.LossPercent, o.Bitrate); err != nil {
		return err
	}
	if o.Complexity != 0 {
		if err := c.set("complexity", C.OPUS_SET_COMPLEXITY_REQUEST, o.Complexity); err != nil {
			return err
		}
	}
	return c.set("signal", C.OPUS_SET_SIGNAL_REQUEST, C.OPUS_SIGNAL_VOICE)
}
