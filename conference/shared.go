package conference

import (
	"bytes"

	"github.com/flashvox/flashvox/codec"
)

// sharedIdle is how many mixes an unused shared encoder is kept (1 s).
const sharedIdle = 50

// sharedMix encodes the full mix once per mix and codec for every member
// who adds nothing to it (silent, muted, not sending): they all hear the
// same audio, so one encode serves them all instead of one each. In a
// room where a few talk, that turns N encodes per mix into about one per
// talker plus one, and the encoder is most of a mixed room's cost (see
// BENCHMARKS.md). Asterisk's softmix bridge shares the translated frame of
// its non-talking members the same way.
//
// A member is served by the shared encoder until it adds audio, and by
// its own encoder from then on, even when silent again, until the room is
// quiet: switching a listener's decoder between two encoders' streams is
// the harm sharing can do. Until the member talks, the full mix is exactly
// its everyone-but-me mix, so its own encoder starts on the audio its
// decoder already follows, and that switch is clean (measured: a tone's
// level unchanged to 0.1 dB). Moving back at any gap in a talker's input
// (jitter, a lost packet) made libspeex's decoder ring: its pitch
// predictor kept the mismatch of each switch, a −18 dB tone came out at
// −5 dB and up to full scale over noise across the band, and resetting
// the encoders at each switch did not stop it
// (TestSharedSwitchesStayClean). The way back that cannot be heard is
// digital silence: once the member's encoder and the shared one both
// send the same settled-silence packet (quiet), the listener's decoder
// cannot tell them apart and sits where the shared encoder does, so a
// member who adds nothing returns to the shared stream then (settledAs).
// Only outputs whose codec frame is exactly one mix at the mix rate are
// shared (Speex wideband, G.722 at 16 kHz): their packets never straddle
// mixes.
type sharedMix struct {
	encs       []*sharedEnc
	tick       uint32
	complexity int // Speex encoder complexity (Options.SpeexComplexity)
}

type sharedEnc struct {
	id    codec.ID
	rate  int
	enc   codec.Encoder
	pkt   []byte
	ok    bool // pkt holds this mix's packet
	quiet quiet
	used  uint32 // the last mix that used it
}

// begin starts a mix: last mix's packets are stale, encoders unused for a
// while are freed.
func (s *sharedMix) begin(tick uint32) {
	s.tick = tick
	kept := s.encs[:0]
	for _, e := range s.encs {
		e.ok = false
		if tick-e.used > sharedIdle {
			closeCodec(e.enc)
			continue
		}
		kept = append(kept, e)
	}
	clear(s.encs[len(kept):])
	s.encs = kept
}

// write publishes pcm, the full mix, on o from the shared encoder of o's
// codec, and reports whether it could (else o encodes it itself).
func (s *sharedMix) write(o *output, pcm []int16, nowMillis uint32, log func(codec.ID, error)) bool {
	if !o.ready(nowMillis, log) {
		return true // nothing to publish yet: nor may the member's own encoder
	}
	if o.rs != nil || len(o.pend) != 0 ||
		o.enc.FrameSamples() != FrameSamples || len(pcm) != FrameSamples {
		return false
	}
	e := s.get(o.id, o.rate)
	if e == nil {
		return false
	}
	if !e.ok {
		var err error
		e.pkt, err = e.quiet.encode(e.enc, e.pkt[:0], pcm)
		if err != nil {
			return false
		}
		e.ok = true
	}
	e.used = s.tick
	ts := o.baseMillis + uint32(o.samples*1000/int64(o.rate))
	o.pub.Write(o.slab.frame(o.id, o.rate, ts, e.pkt))
	o.samples += FrameSamples
	return true
}

// find is the room's shared encoder of id at rate, nil for none yet.
func (s *sharedMix) find(id codec.ID, rate int) *sharedEnc {
	for _, e := range s.encs {
		if e.id == id && e.rate == rate {
			return e
		}
	}
	return nil
}

func (s *sharedMix) get(id codec.ID, rate int) *sharedEnc {
	if e := s.find(id, rate); e != nil {
		return e
	}
	enc, err := newMixEncoder(id, rate, s.complexity)
	if err != nil {
		return nil // the member's own encoder of the same codec works, so this is rare: it encodes itself
	}
	e := &sharedEnc{id: id, rate: rate, enc: enc, used: s.tick}
	s.encs = append(s.encs, e)
	return e
}

// settledAs reports whether o's own encoder and the room's shared encoder
// of its codec both send the same settled-silence packet: a switch from
// one to the other then changes no byte the listener gets.
func (s *sharedMix) settledAs(o *output) bool {
	if o.quiet.run < quietStable {
		return false
	}
	e := s.find(o.id, o.rate)
	return e != nil && e.quiet.run >= quietStable && bytes.Equal(e.quiet.pkt, o.quiet.pkt)
}

func (s *sharedMix) close() {
	for _, e := range s.encs {
		closeCodec(e.enc)
	}
	s.encs = nil
}
