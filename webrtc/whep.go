package webrtc

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"

	"github.com/pion/webrtc/v4"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/media"
)

// startWHEP adds a send-only track in the session's codec fed by the
// stream (whepSource): audio already in that codec is sent as it is (no
// decoding: only RTP packetising here); other audio goes through the
// hub's shared transcoder, once for every player of that codec.
func (p *peerSession) startWHEP() error {
	track := newRTPTrack(p.codec)
	sender, err := p.pc.AddTrack(track)
	if err != nil {
		return fmt.Errorf("webrtc: add track: %w", err)
	}
	in, _ := codec.Lookup(p.codec.id)
	src := newWHEPSource(p, in)
	p.stop = src.close
	go drainRTCP(sender)
	go p.playLoop(src, track)
	return nil
}

// rtpClock stamps a stream's frames in RTP clock units: the gap between
// two frames' millisecond timestamps, so the player's clock follows the
// publisher's pauses; a jump (a new publisher, a re-anchored transcoder)
// counts as the previous frame's length and starts a talkspurt.
type rtpClock struct {
	perMs   uint32 // clock units per millisecond
	ts      uint32
	lastMs  uint32
	lastLen uint32 // the previous frame's length, clock units
	have    bool
}

func newRTPClock(clock uint32) *rtpClock {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return &rtpClock{perMs: clock / 1000, ts: binary.BigEndian.Uint32(b[:])}
}

// stamp returns the timestamp of a frame at ms lasting length units, and
// whether it starts a talkspurt (RTP marker).
func (c *rtpClock) stamp(ms, length uint32) (ts uint32, marker bool) {
	switch gap := int32(ms - c.lastMs); {
	case !c.have:
		marker = true
	case gap > 0 && gap <= 1000:
		c.ts += uint32(gap) * c.perMs
	default:
		c.ts += c.lastLen
		marker = true
	}
	c.lastMs, c.lastLen, c.have = ms, length, true
	return c.ts, marker
}

// reset makes the next frame start afresh (a new publisher).
func (c *rtpClock) reset() {
	if c.have {
		c.ts += c.lastLen
	}
	c.have = false
}

// frameLength is a packet's length in RTP clock units: G.711 and G.722
// carry one byte per clock unit (G.722's clock is 8000 Hz, RFC 3551);
// Opus frames from the hub are 20 ms.
func frameLength(id codec.ID, payload []byte) uint32 {
	if id == codec.Opus {
		return 960
	}
	return uint32(len(payload))
}

// playLoop writes the stream's frames to the track until the session
// ends (closing the source ends next).
func (p *peerSession) playLoop(src *whepSource, track *rtpTrack) {
	clock := newRTPClock(track.c.cap.ClockRate)
	st := &p.s.Stats
	for {
		f, err := src.next()
		if err != nil {
			return
		}
		on, passing := src.transcoding()
		switch {
		case f.Kind == media.KindPublish:
			clock.reset() // a new publisher: its timestamps start afresh
		case f.Kind == media.KindDTMF:
			p.sendDigits(track, clock, f.Payload)
		case f.Kind != media.KindAudio || len(f.Payload) == 0:
		case !on && !src.passes(f):
			if err := src.toTranscoder(); err != nil {
				p.log.Info("webrtc player needs a transcoder", "codec", f.Codec, "err", err)
				p.close(err.Error())
				return
			}
		case src.passes(f):
			if !on || passing {
				st.PassedThrough.Add(1)
			} else {
				st.Transcoded.Add(1)
			}
			ts, marker := clock.stamp(f.Timestamp, frameLength(src.target.ID, f.Payload))
			if err := track.writeAudio(f.Payload, ts, marker); err != nil && err != errNotBound {
				p.log.Debug("write rtp", "err", err)
				return
			}
		}
	}
}

// sendDigits sends each digit of ds as an RFC 4733 event stamped where
// the audio is, if the player negotiated telephone-event.
func (p *peerSession) sendDigits(track *rtpTrack, clock *rtpClock, ds []byte) {
	if !track.hasEvents() {
		return
	}
	for i, d := range ds {
		ev, ok := eventOf(d)
		if !ok || i >= maxDigitsPerFrame {
			continue
		}
		// Each digit its own event timestamp, spaced by its length.
		ts := clock.ts + clock.lastLen + uint32(i)*(eventSteps+2)*(track.c.cap.ClockRate/50)
		for k, pkt := range eventPackets(ev, track.c.cap.ClockRate) {
			if err := track.write(true, pkt, ts, k == 0); err != nil {
				return
			}
		}
		p.s.Stats.DTMFOut.Add(1)
	}
}

// maxDigitsPerFrame bounds the digits taken from one DTMF frame.
const maxDigitsPerFrame = 16

// drainRTCP reads the browser's RTCP so the report interceptor
// sees it; it ends when the sender closes.
func drainRTCP(s *webrtc.RTPSender) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := s.Read(buf); err != nil {
			return
		}
	}
}
