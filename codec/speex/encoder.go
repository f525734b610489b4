package speex

import (
	"fmt"
	"runtime"

	"github.com/flashvox/flashvox/codec"
)

// Defaults for EncoderOptions fields left zero.
const (
	DefaultQuality    = 8 // ffmpeg's libspeex default; 27.8 kbit/s wideband, 70-byte frames
	DefaultComplexity = 3 // what ffmpeg's libspeex encoder ends up with: our output is then byte-identical
)

// maxFrameBytes is more than the largest Speex frame (ultra-wideband quality 10).
const maxFrameBytes = 256

// EncoderOptions tune an Encoder. The zero value gives the defaults.
type EncoderOptions struct {
	// Quality is libspeex's constant-bitrate quality, 1..10; 0 means DefaultQuality.
	Quality int
	// Complexity is the encoder's search effort, 1..10; 0 means DefaultComplexity.
	Complexity int
}

func (o EncoderOptions) withDefaults() (EncoderOptions, error) {
	if o.Quality == 0 {
		o.Quality = DefaultQuality
	}
	if o.Complexity == 0 {
		o.Complexity = DefaultComplexity
	}
	if o.Quality < 1 || o.Quality > 10 {
		return o, fmt.Errorf("speex: quality: must be 1..10, got %d", o.Quality)
	}
	if o.Complexity < 1 || o.Complexity > 10 {
		return o, fmt.Errorf("speex: complexity: must be 1..10, got %d", o.Complexity)
	}
	return o, nil
}

// Encoder encodes Speex at a constant bitrate (VBR off), one frame per
// packet, as Flash Player and ffmpeg do. It implements codec.Encoder.
type Encoder struct {
	c       cState
	rate    int
	frame   int
	cleanup runtime.Cleanup
}

// NewEncoder returns an encoder for rate 8000, 16000 or 32000.
func NewEncoder(rate int, opts EncoderOptions) (*Encoder, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	c, err := newState(rate, true)
	if err != nil {
		return nil, err
	}
	c.configureEncoder(opts.Quality, opts.Complexity)
	e := &Encoder{c: c, rate: rate, frame: c.frameSize()}
	e.cleanup = runtime.AddCleanup(e, cState.free, c)
	return e, nil
}

// Encode appends one Speex frame, padded to a whole byte, to dst.
func (e *Encoder) Encode(dst []byte, pcm []int16) ([]byte, error) {
	if e.c.st == nil {
		return dst, ErrClosed
	}
	if len(pcm) != e.frame {
		return dst, fmt.Errorf("%w: got %d, want %d", codec.ErrFrameSize, len(pcm), e.frame)
	}
	n0 := len(dst)
	dst = grow(dst, maxFrameBytes)
	n := e.c.encode(pcm, dst[n0:])
	runtime.KeepAlive(e)
	return dst[:n0+n], nil
}

// FrameSamples returns 160, 320 or 640 for 8, 16 or 32 kHz.
func (e *Encoder) FrameSamples() int { return e.frame }

// SampleRate returns the encoder's rate in Hz.
func (e *Encoder) SampleRate() int { return e.rate }

// Close frees the libspeex state. The Encoder must not be used afterwards.
func (e *Encoder) Close() error {
	e.cleanup.Stop()
	e.c.free()
	e.c = cState{}
	return nil
}
