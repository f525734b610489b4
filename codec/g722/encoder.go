package g722

import (
	"fmt"

	"github.com/flashvox/flashvox/codec"
)

// Encoder encodes 16 kHz PCM to 64 kbit/s G.722. It implements codec.Encoder.
type Encoder struct {
	low, high band
	x         qmfHistory // transmit QMF delay line
	samples   int
}

// NewEncoder returns an encoder taking frameSamples samples per Encode call
// (0 means FrameSamples, 20 ms). frameSamples must be even.
func NewEncoder(frameSamples int) (*Encoder, error) {
	if frameSamples == 0 {
		frameSamples = FrameSamples
	}
	if frameSamples < 0 || frameSamples%2 != 0 {
		return nil, fmt.Errorf("%w: g722 frame of %d samples (must be even)", codec.ErrFrameSize, frameSamples)
	}
	e := &Encoder{samples: frameSamples}
	e.Reset()
	return e, nil
}

// Reset returns the encoder to its initial state.
func (e *Encoder) Reset() {
	*e = Encoder{samples: e.samples}
	e.low.det = initDetLow
	e.high.det = initDetHi
}

// Encode appends FrameSamples/2 bytes to dst.
func (e *Encoder) Encode(dst []byte, pcm []int16) ([]byte, error) {
	if len(pcm) != e.samples {
		return dst, fmt.Errorf("%w: got %d, want %d", codec.ErrFrameSize, len(pcm), e.samples)
	}
	n := len(pcm) / 2
	dst = grow(dst, n)
	out := dst[len(dst)-n:]
	for j := range out {
		out[j] = e.encodePair(int(pcm[2*j]), int(pcm[2*j+1]))
	}
	return dst, nil
}

func (e *Encoder) encodePair(s0, s1 int) byte {
	// Transmit QMF: split into low and high band at 8 kHz.
	sumeven, sumodd := split(e.x.push(s0, s1))
	xlow := (sumeven + sumodd) >> 14
	xhigh := (sumeven - sumodd) >> 14

	// Low band: SUBTRA, QUANTL.
	lb := &e.low
	el := sat16(xlow - lb.s)
	wd := el
	if el < 0 {
		wd = -(el + 1)
	}
	i := 1
	for ; i < 30; i++ {
		if wd < q6[i]*lb.det>>12 {
			break
		}
	}
	ilow := ilp[i]
	if el < 0 {
		ilow = iln[i]
	}
	// INVQAL, LOGSCL, SCALEL, adapt.
	il4 := ilow >> 2
	dlow := lb.det * qm4[il4] >> 15
	lb.scale(wl[rl42[il4]], lowLimit, lowShift)
	lb.adapt(dlow)

	// High band: SUBTRA, QUANTH.
	hb := &e.high
	eh := sat16(xhigh - hb.s)
	wd = eh
	if eh < 0 {
		wd = -(eh + 1)
	}
	mih := 1
	if wd >= 564*hb.det>>12 {
		mih = 2
	}
	ihigh := ihp[mih]
	if eh < 0 {
		ihigh = ihn[mih]
	}
	// INVQAH, LOGSCH, SCALEH, adapt.
	dhigh := hb.det * qm2[ihigh] >> 15
	hb.scale(wh[rh2[ihigh]], highLimit, highShift)
	hb.adapt(dhigh)

	return byte(ihigh<<6 | ilow)
}

// FrameSamples returns the number of samples Encode takes.
func (e *Encoder) FrameSamples() int { return e.samples }

// SampleRate returns 16000.
func (e *Encoder) SampleRate() int { return SampleRate }
