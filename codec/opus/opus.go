// Package opus binds libopus (cgo, Debian's libopus-dev) for Opus mono
// voice: the browser's codec (WebRTC, RFC 7587). libopus decodes any Opus
// packet (SILK, CELT or hybrid, 2.5 to 120 ms) at the rate asked for, 8,
// 12, 16, 24 or 48 kHz, resampling inside the codec; the encoder runs in
// VoIP mode on 20 ms frames.
//
// Decoders and Encoders hold C memory. It is released by Close, or by the
// garbage collector when the value becomes unreachable.
package opus

import (
	"errors"
	"fmt"
	"runtime"
	"slices"

	"github.com/flashvox/flashvox/codec"
)

var (
	// ErrClosed is returned by a Decoder or Encoder used after Close.
	ErrClosed = errors.New("opus: closed")
	// ErrUnavailable is every NewDecoder and NewEncoder of a binary built
	// without cgo (libopus is a C library).
	ErrUnavailable = errors.New("opus: not available in this build")
)

// Rates are the PCM rates libopus runs at; RTP always says 48000.
var Rates = []int{8000, 12000, 16000, 24000, 48000}

// Sizes from RFC 6716: a packet is at most 1275 bytes per frame and up to
// 48 frames long; one packet decodes to at most 120 ms.
const (
	MaxPacketSize = 1275 * 3 // what a 60 ms voice packet can need; longer ones are refused
	maxPacketMs   = 120
)

// FrameMs is the length of the frames the Encoder makes.
const FrameMs = 20

func checkRate(rate int) error {
	if !slices.Contains(Rates, rate) {
		return fmt.Errorf("%w: opus at %d Hz (supported: %v)", codec.ErrUnsupportedRate, rate, Rates)
	}
	return nil
}

// Decoder decodes Opus packets to mono PCM. It implements codec.Decoder.
type Decoder struct {
	c       cState
	rate    int
	last    int // samples of the last packet, the length of a concealed frame
	cleanup runtime.Cleanup
}

// NewDecoder returns a decoder producing PCM at rate (one of Rates).
func NewDecoder(rate int) (*Decoder, error) {
	if err := checkRate(rate); err != nil {
		return nil, err
	}
	c, err := newState(rate, false)
	if err != nil {
		return nil, err
	}
	d := &Decoder{c: c, rate: rate, last: rate * FrameMs / 1000}
	d.cleanup = runtime.AddCleanup(d, cState.free, c)
	return d, nil
}

// SampleRate is the rate of the PCM Decode produces.
func (d *Decoder) SampleRate() int { return d.rate }

// Decode appends the PCM of pkt to dst. A corrupt packet appends nothing
// and returns an error wrapping codec.ErrCorrupt.
func (d *Decoder) Decode(dst []int16, pkt []byte) ([]int16, error) {
	if !d.c.ok() {
		return dst, ErrClosed
	}
	if len(pkt) == 0 {
		return dst, nil
	}
	if len(pkt) > MaxPacketSize {
		return dst, fmt.Errorf("%w: opus packet of %d bytes (max %d)", codec.ErrCorrupt, len(pkt), MaxPacketSize)
	}
	n0 := len(dst)
	dst = slices.Grow(dst, d.rate*maxPacketMs/1000)[:n0+d.rate*maxPacketMs/1000]
	n := d.c.decode(pkt, dst[n0:])
	runtime.KeepAlive(d)
	if n < 0 {
		return dst[:n0], fmt.Errorf("%w: opus packet of %d bytes (libopus error %d)", codec.ErrCorrupt, len(pkt), n)
	}
	d.last = n
	return dst[:n0+n], nil
}

// Conceal appends one frame (as long as the last packet) of libopus's
// packet-loss concealment; silence after Close.
func (d *Decoder) Conceal(dst []int16) []int16 {
	n0 := len(dst)
	dst = slices.Grow(dst, d.last)[:n0+d.last]
	if !d.c.ok() {
		clear(dst[n0:])
		return dst
	}
	n := d.c.decode(nil, dst[n0:])
	runtime.KeepAlive(d)
	if n < 0 {
		clear(dst[n0:])
		return dst
	}
	return dst[:n0+n]
}

// DecodeFEC appends the frame before pkt (as long as the last packet)
// from pkt's in-band FEC data, or libopus's concealment when pkt has
// none or is corrupt (codec.FECDecoder).
func (d *Decoder) DecodeFEC(dst []int16, pkt []byte) []int16 {
	if len(pkt) == 0 || len(pkt) > MaxPacketSize || !d.c.ok() {
		return d.Conceal(dst)
	}
	n0 := len(dst)
	dst = slices.Grow(dst, d.last)[:n0+d.last]
	n := d.c.decodeFEC(pkt, dst[n0:])
	runtime.KeepAlive(d)
	if n < 0 {
		return d.Conceal(dst[:n0])
	}
	return dst[:n0+n]
}

// Close frees the C decoder.
func (d *Decoder) Close() error {
	if d.c.ok() {
		d.cleanup.Stop()
		d.c.free()
		d.c = cState{}
	}
	return nil
}

// EncoderOptions tune the encoder; zero values keep libopus's defaults
// (about 24 kbit/s for 16 kHz voice, complexity 10, no FEC).
type EncoderOptions struct {
	Bitrate     int // bits per second, 6000–510000
	Complexity  int // 1–10
	LossPercent int // expected packet loss 1–100: turns on in-band FEC
}

// Encoder encodes mono PCM into 20 ms Opus packets. It implements
// codec.Encoder.
type Encoder struct {
	c       cState
	rate    int
	bitrate int // the configured one (0: libopus's choice)
	cleanup runtime.Cleanup
}

// NewEncoder returns an encoder for PCM at rate (one of Rates).
func NewEncoder(rate int, o EncoderOptions) (*Encoder, error) {
	if err := checkRate(rate); err != nil {
		return nil, err
	}
	switch {
	case o.Bitrate != 0 && (o.Bitrate < 6000 || o.Bitrate > 510000):
		return nil, fmt.Errorf("opus: bitrate %d outside 6000–510000", o.Bitrate)
	case o.Complexity < 0 || o.Complexity > 10:
		return nil, fmt.Errorf("opus: complexity %d outside 1–10", o.Complexity)
	case o.LossPercent < 0 || o.LossPercent > 100:
		return nil, fmt.Errorf("opus: loss %d %% outside 0–100", o.LossPercent)
	}
	c, err := newState(rate, true)
	if err != nil {
		return nil, err
	}
	if err := c.configureEncoder(o); err != nil {
		c.free()
		return nil, err
	}
	e := &Encoder{c: c, rate: rate, bitrate: o.Bitrate}
	e.cleanup = runtime.AddCleanup(e, cState.free, c)
	return e, nil
}

// fecBitrate is a bitrate at which SILK codes in-band FEC for voice at a
// rate: libopus's decide_fec (opus_encoder.c, 1.3) wants an "equivalent
// rate" above 13, 15, 17 and 21 kbit/s at 8, 12, 16 and 24 kHz, raised
// by up to a quarter for the loss, after taking up to a sixth off the
// bitrate for the loss and 5 % for complexity 5; libopus's own choice
// (≈ 11, 15, 19, 27 kbit/s) is below that. At 48 kHz its own is above.
func fecBitrate(rate int) int {
	switch {
	case rate <= 8000:
		return 20000
	case rate <= 12000:
		return 24000
	case rate <= 16000:
		return 28000
	case rate <= 24000:
		return 32000
	}
	return 0
}

// SetLossPercent tells the encoder the packet loss its receivers see,
// 0–100 (codec.LossTuner): above 0 it adds in-band FEC sized for it (the
// frame before each packet again, at a lower rate; a receiver that lost
// it decodes it from the next), with a bitrate that leaves room for it;
// 0 turns FEC off and restores the bitrate. Between Encode calls only.
func (e *Encoder) SetLossPercent(pct int) error {
	if !e.c.ok() {
		return ErrClosed
	}
	pct = min(max(pct, 0), 100)
	bitrate := e.bitrate
	if pct > 0 && bitrate < fecBitrate(e.rate) {
		bitrate = fecBitrate(e.rate)
	}
	err := e.c.setLoss(pct, bitrate)
	runtime.KeepAlive(e)
	return err
}

// SampleRate is the rate of the PCM Encode expects.
func (e *Encoder) SampleRate() int { return e.rate }

// FrameSamples is 20 ms at the encoder's rate.
func (e *Encoder) FrameSamples() int { return e.rate * FrameMs / 1000 }

// Encode appends one packet holding pcm (FrameSamples samples) to dst.
func (e *Encoder) Encode(dst []byte, pcm []int16) ([]byte, error) {
	if !e.c.ok() {
		return dst, ErrClosed
	}
	if len(pcm) != e.FrameSamples() {
		return dst, fmt.Errorf("%w: %d samples, want %d", codec.ErrFrameSize, len(pcm), e.FrameSamples())
	}
	n0 := len(dst)
	dst = slices.Grow(dst, MaxPacketSize)[:n0+MaxPacketSize]
	n := e.c.encode(pcm, dst[n0:])
	runtime.KeepAlive(e)
	if n < 0 {
		return dst[:n0], fmt.Errorf("opus: encode: libopus error %d", n)
	}
	return dst[:n0+n], nil
}

// Close frees the C encoder.
func (e *Encoder) Close() error {
	if e.c.ok() {
		e.cleanup.Stop()
		e.c.free()
		e.c = cState{}
	}
	return nil
}
