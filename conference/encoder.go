package conference

import (
	"slices"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/codecs"
	"github.com/flashvox/flashvox/codec/speex"
)

// DefaultSpeexComplexity is the Speex encoder complexity of mix outputs.
// The wideband encoder is most of a mixed room's CPU (BENCHMARKS.md); at 2
// it costs ~30 % less than libspeex's and ffmpeg's 3 while the decoded
// audio is the same to within 0.05 dB of SNR on recorded speech and 0.1
// dB on tones (codec/speex TestComplexityKeepsQuality, BENCHMARKS.md).
// Asterisk's codec_speex defaults to 2 as well (codecs.conf.sample).
const DefaultSpeexComplexity = 2

// newMixEncoder starts an encoder for a mix output: Speex with the
// room service's complexity, other codecs as codecs.NewEncoder makes them.
func newMixEncoder(id codec.ID, rate, speexComplexity int) (codec.Encoder, error) {
	if id == codec.Speex {
		return speex.NewEncoder(rate, speex.EncoderOptions{Complexity: speexComplexity})
	}
	return codecs.NewEncoder(id, rate)
}

// quietStable is how many identical packets of digital silence in a row
// make an encoder's silence packet known (Speex wideband converges after
// about 6 silent frames).
const quietStable = 3

// quiet spares an encoder the work of encoding silence over and over: a
// member hearing nobody gets a mix of zeros, and once the encoder has
// settled, every silent frame encodes to the same bytes. Those bytes are
// then sent without running the encoder, until the mix has sound again.
// The member's decoder gets exactly the packets it would have got; the
// encoder, not having seen the last silent frames, starts the next sound
// from the state of the settled silence, which is the same state.
// Speex's own DTX is not used: Flash Player decodes constant-bitrate
// frames, and an identical packet needs nothing of the receiver.
type quiet struct {
	pkt []byte // the last packet of silence
	run int    // times in a row pkt came out of the encoder for silence
}

// encode appends the encoding of pcm to dst.
func (q *quiet) encode(enc codec.Encoder, dst []byte, pcm []int16) ([]byte, error) {
	if !isZero(pcm) {
		q.run = 0
		return enc.Encode(dst, pcm)
	}
	if q.run >= quietStable {
		return append(dst, q.pkt...), nil
	}
	out, err := enc.Encode(dst, pcm)
	if err != nil {
		return out, err
	}
	if pkt := out[len(dst):]; slices.Equal(pkt, q.pkt) {
		q.run++
	} else {
		q.pkt, q.run = append(q.pkt[:0], pkt...), 1
	}
	return out, nil
}

func isZero(pcm []int16) bool {
	for _, v := range pcm {
		if v != 0 {
			return false
		}
	}
	return true
}
