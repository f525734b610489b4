package speex

import (
	"fmt"
	"runtime"

	"github.com/flashvox/flashvox/codec"
)

// MaxFramesPerPacket bounds the frames one packet may hold; Flash sends 1 to 8.
const MaxFramesPerPacket = 32

// MaxPacketSize is the largest packet Decode accepts: libspeex's bit buffer.
const MaxPacketSize = 2000

// Decoder decodes Speex packets with libspeex. It implements codec.Decoder.
type Decoder struct {
	c       cState
	rate    int
	frame   int
	cleanup runtime.Cleanup
}

// NewDecoder returns a decoder for rate 8000 (narrowband), 16000 (wideband)
// or 32000 (ultra-wideband), with libspeex's default perceptual enhancer.
func NewDecoder(rate int) (*Decoder, error) {
	c, err := newState(rate, false)
	if err != nil {
		return nil, err
	}
	d := &Decoder{c: c, rate: rate, frame: c.frameSize()}
	d.cleanup = runtime.AddCleanup(d, cState.free, c)
	return d, nil
}

// Decode appends the PCM of every frame in pkt to dst. On a corrupt packet
// it keeps the frames decoded before the damage and returns an error
// wrapping codec.ErrCorrupt.
func (d *Decoder) Decode(dst []int16, pkt []byte) ([]int16, error) {
	if d.c.st == nil {
		return dst, ErrClosed
	}
	if len(pkt) == 0 {
		return dst, nil
	}
	if len(pkt) > MaxPacketSize {
		return dst, fmt.Errorf("%w: speex packet of %d bytes (max %d)", codec.ErrCorrupt, len(pkt), MaxPacketSize)
	}
	// Room for the most frames this packet can hold: each takes at least 5 bits.
	most := min(MaxFramesPerPacket, len(pkt)*8/5)
	n0 := len(dst)
	dst = grow(dst, most*d.frame)
	n, status := d.c.decode(pkt, dst[n0:], d.frame, most)
	runtime.KeepAlive(d)
	dst = dst[:n0+n*d.frame]
	switch status {
	case 0:
		if n == 0 {
			return dst, fmt.Errorf("%w: speex packet without a frame", codec.ErrCorrupt)
		}
		return dst, nil
	case 1:
		return dst, nil // end-of-stream code: a normal end
	case 4:
		return dst, fmt.Errorf("%w: more than %d speex frames in a packet", codec.ErrCorrupt, most)
	}
	return dst, fmt.Errorf("%w: speex frame %d (status %d: 2 corrupt, 3 overflow)", codec.ErrCorrupt, n, status)
}

// Conceal appends one frame of libspeex's packet-loss concealment (silence
// after Close).
func (d *Decoder) Conceal(dst []int16) []int16 {
	n0 := len(dst)
	dst = grow(dst, d.frame)
	if d.c.st == nil {
		clear(dst[n0:])
		return dst
	}
	d.c.conceal(dst[n0:])
	runtime.KeepAlive(d)
	return dst
}

// SampleRate returns the decoder's rate in Hz.
func (d *Decoder) SampleRate() int { return d.rate }

// FrameSamples returns the samples in one Speex frame at this rate.
func (d *Decoder) FrameSamples() int { return d.frame }

// Close frees the libspeex state. The Decoder must not be used afterwards.
func (d *Decoder) Close() error {
	d.cleanup.Stop()
	d.c.free()
	d.c = cState{}
	return nil
}

// grow extends s by n elements, reallocating only when its capacity is short.
func grow[T any](s []T, n int) []T {
	if cap(s)-len(s) < n {
		s = append(s[:cap(s)], make([]T, n-(cap(s)-len(s)))...)[:len(s)]
	}
	return s[:len(s)+n]
}
