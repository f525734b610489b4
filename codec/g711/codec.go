package g711

import (
	"fmt"

	"github.com/flashvox/flashvox/codec"
)

// Law selects μ-law or A-law.
type Law uint8

// The two G.711 companding laws.
const (
	ULaw Law = iota + 1 // μ-law, PCMU
	ALaw                // A-law, PCMA
)

// SampleRate is G.711's sampling rate.
const SampleRate = 8000

// DefaultFrameSamples is 20 ms, the usual RTP packet and the concealment unit.
const DefaultFrameSamples = 160

// concealSteps is how many concealed frames fade the last frame to silence.
const concealSteps = 5

// Decoder decodes G.711 packets of any length. It implements codec.Decoder.
type Decoder struct {
	table *[256]int16
	last  [DefaultFrameSamples]int16 // the last DefaultFrameSamples decoded samples, for Conceal
	lost  int                        // consecutive concealed frames
}

// NewDecoder returns a decoder for law.
func NewDecoder(law Law) (*Decoder, error) {
	switch law {
	case ULaw:
		return &Decoder{table: ulawDecTable}, nil
	case ALaw:
		return &Decoder{table: alawDecTable}, nil
	}
	return nil, fmt.Errorf("%w: g711 law %d", codec.ErrUnknownFormat, law)
}

// Decode appends the samples of pkt (one byte per sample) to dst.
func (d *Decoder) Decode(dst []int16, pkt []byte) ([]int16, error) {
	dst = grow(dst, len(pkt))
	out := dst[len(dst)-len(pkt):]
	for i, c := range pkt {
		out[i] = d.table[c]
	}
	if n := len(out); n >= len(d.last) {
		copy(d.last[:], out[n-len(d.last):])
	} else {
		copy(d.last[:], d.last[n:])
		copy(d.last[len(d.last)-n:], out)
	}
	d.lost = 0
	return dst, nil
}

// Conceal appends DefaultFrameSamples samples: the last decoded 20 ms,
// repeated and faded out over a few lost frames, then silence.
func (d *Decoder) Conceal(dst []int16) []int16 {
	d.lost++
	dst = grow(dst, len(d.last))
	out := dst[len(dst)-len(d.last):]
	if d.lost > concealSteps {
		clear(out)
		return dst
	}
	// Gain falls linearly across the frame from (steps-lost+1)/steps to (steps-lost)/steps.
	n := len(d.last)
	for i, v := range d.last {
		g := (concealSteps-d.lost+1)*n - i
		out[i] = int16(int(v) * g / (concealSteps * n))
	}
	return dst
}

// SampleRate returns 8000.
func (d *Decoder) SampleRate() int { return SampleRate }

// Encoder encodes frames of a fixed number of samples. It implements codec.Encoder.
type Encoder struct {
	law     Law
	samples int
}

// NewEncoder returns an encoder for law taking frameSamples samples per
// Encode call (0 means DefaultFrameSamples).
func NewEncoder(law Law, frameSamples int) (*Encoder, error) {
	if frameSamples < 0 {
		return nil, fmt.Errorf("%w: g711 frame of %d samples", codec.ErrFrameSize, frameSamples)
	}
	if frameSamples == 0 {
		frameSamples = DefaultFrameSamples
	}
	if law != ULaw && law != ALaw {
		return nil, fmt.Errorf("%w: g711 law %d", codec.ErrUnknownFormat, law)
	}
	return &Encoder{law: law, samples: frameSamples}, nil
}

// Encode appends the codes of pcm, which must hold FrameSamples samples.
func (e *Encoder) Encode(dst []byte, pcm []int16) ([]byte, error) {
	if len(pcm) != e.samples {
		return dst, fmt.Errorf("%w: got %d, want %d", codec.ErrFrameSize, len(pcm), e.samples)
	}
	if e.law == ALaw {
		return AppendALaw(dst, pcm), nil
	}
	return AppendULaw(dst, pcm), nil
}

// FrameSamples returns the number of samples Encode takes.
func (e *Encoder) FrameSamples() int { return e.samples }

// SampleRate returns 8000.
func (e *Encoder) SampleRate() int { return SampleRate }
