// Package codecs is the one table from codec.ID to the implementations in
// the codec sub-packages. It exists so that package codec stays free of
// implementation imports (and cgo), and so that no codec registers itself
// from an init function: adding a codec means adding a row here.
//
// Some Decoders hold C memory (Speex): they implement io.Closer, and callers
// should close them when a stream ends (the garbage collector frees them
// otherwise).
package codecs

import (
	"fmt"
	"slices"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/g711"
	"github.com/flashvox/flashvox/codec/g722"
	"github.com/flashvox/flashvox/codec/nellymoser"
	"github.com/flashvox/flashvox/codec/opus"
	"github.com/flashvox/flashvox/codec/speex"
)

type impl struct {
	rates      []int // PCM rates the implementation runs at
	newDecoder func(rate int) (codec.Decoder, error)
	newEncoder func(rate int) (codec.Encoder, error)
}

// nellyRates are the rates Flash and ffmpeg put in FLV formats 4, 5 and 6.
var nellyRates = []int{5512, 8000, 11025, 16000, 22050, 44100}

var table = map[codec.ID]impl{
	codec.Nellymoser: {
		rates:      nellyRates,
		newDecoder: func(rate int) (codec.Decoder, error) { return nellymoser.NewDecoder(rate), nil },
		newEncoder: func(rate int) (codec.Encoder, error) { return nellymoser.NewEncoder(rate), nil },
	},
	codec.Speex: {
		rates:      []int{8000, 16000, 32000},
		newDecoder: func(rate int) (codec.Decoder, error) { return speex.NewDecoder(rate) },
		newEncoder: func(rate int) (codec.Encoder, error) { return speex.NewEncoder(rate, speex.EncoderOptions{}) },
	},
	codec.PCMU: {
		rates:      []int{g711.SampleRate},
		newDecoder: func(int) (codec.Decoder, error) { return g711.NewDecoder(g711.ULaw) },
		newEncoder: func(int) (codec.Encoder, error) { return g711.NewEncoder(g711.ULaw, 0) },
	},
	codec.PCMA: {
		rates:      []int{g711.SampleRate},
		newDecoder: func(int) (codec.Decoder, error) { return g711.NewDecoder(g711.ALaw) },
		newEncoder: func(int) (codec.Encoder, error) { return g711.NewEncoder(g711.ALaw, 0) },
	},
	codec.G722: {
		rates:      []int{g722.SampleRate},
		newDecoder: func(int) (codec.Decoder, error) { return g722.NewDecoder(), nil },
		newEncoder: func(int) (codec.Encoder, error) { return g722.NewEncoder(0) },
	},
	// Opus (libopus, cgo): without cgo both constructors fail with
	// opus.ErrUnavailable, so a transcoder to or from Opus says why.
	codec.Opus: {
		rates:      opus.Rates,
		newDecoder: newOpusDecoder,
		newEncoder: newOpusEncoder,
	},
}

func lookup(id codec.ID, rate int) (impl, int, error) {
	in, ok := codec.Lookup(id)
	if !ok {
		return impl{}, 0, fmt.Errorf("%w: codec id %d", codec.ErrUnknownFormat, id)
	}
	im, ok := table[id]
	if !ok {
		return impl{}, 0, fmt.Errorf("%w: %s", codec.ErrNotImplemented, id)
	}
	if rate == 0 {
		rate = in.SampleRate
	}
	if !slices.Contains(im.rates, rate) {
		return impl{}, 0, fmt.Errorf("%w: %s at %d Hz (supported: %v)", codec.ErrUnsupportedRate, id, rate, im.rates)
	}
	return im, rate, nil
}

// NewDecoder returns a decoder for id producing PCM at rate (0: the
// codec's default rate, codec.Info.SampleRate).
func NewDecoder(id codec.ID, rate int) (codec.Decoder, error) {
	im, rate, err := lookup(id, rate)
	if err != nil {
		return nil, err
	}
	return im.newDecoder(rate)
}

// NewEncoder returns an encoder for id taking PCM at rate (0: the codec's
// default), with default settings. Use the sub-package directly for options
// (speex quality, frame sizes).
func NewEncoder(id codec.ID, rate int) (codec.Encoder, error) {
	im, rate, err := lookup(id, rate)
	if err != nil {
		return nil, err
	}
	return im.newEncoder(rate)
}

// Rates returns the PCM rates id can be decoded and encoded at, or nil if
// flashvox has no implementation of id.
func Rates(id codec.ID) []int {
	return slices.Clone(table[id].rates)
}

// newOpusDecoder and newOpusEncoder return a nil interface on error, not a
// typed nil pointer that a caller's Close would dereference.
func newOpusDecoder(rate int) (codec.Decoder, error) {
	d, err := opus.NewDecoder(rate)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// opusComplexity is the hub's Opus encoders' complexity: 5 costs 0.61× of
// libopus's default 10 per frame (133 vs 217 µs of CPU for 20 ms at
// 48 kHz, 32 kbit/s; BenchmarkEncode48kComplexity; complexity 1 costs
// 0.33×). The hub encodes once per stream for many browser legs, so the
// encoder's cost decides how many transcoded legs a core carries; 5 keeps
// the middle of libopus's range rather than its cheapest analysis.
const opusComplexity = 5

func newOpusEncoder(rate int) (codec.Encoder, error) {
	e, err := opus.NewEncoder(rate, opus.EncoderOptions{Complexity: opusComplexity})
	if err != nil {
		return nil, err
	}
	return e, nil
}
