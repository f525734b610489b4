package webrtc

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/rtcpblocks"
	"github.com/flashvox/flashvox/media"
)

// startWHEP adds a send-only track in the session's codec fed by the
// stream (whepSource): audio already in that codec is sent as it is (no
// decoding: only RTP packetising here), straight from the publisher's
// goroutine when the player is idle (media.Inline: the SRTP write is a
// UDP send, which does not wait for the browser); other audio goes
// through the hub's shared transcoder, once for every player of that
// codec, and reaches this player through its queue and play loop.
func (p *peerSession) startWHEP() error {
	track := newRTPTrack(p.codec)
	sender, err := p.pc.AddTrack(track)
	if err != nil {
		return fmt.Errorf("webrtc: add track: %w", err)
	}
	src := p.startPlayer(track)
	p.stats.setTrack(track)
	go readRTCP(sender, func(b rtcp.ReceptionReport) {
		p.stats.peerBlock(b, time.Now())
		src.peerLoss(b.FractionLost)
	})
	return nil
}

// startPlayer subscribes the session's player, sending on track.
func (p *peerSession) startPlayer(track *rtpTrack) *whepSource {
	in, _ := codec.Lookup(p.codec.id)
	pl := &player{p: p, track: track, clock: newRTPClock(track.c.cap.ClockRate)}
	pl.src = newWHEPSource(p, in)
	pl.src.subscribe(pl.deliver)
	p.stop = pl.src.close
	go p.playLoop(pl)
	return pl.src
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

// player is a WHEP session's sending state: its track and RTP clock.
// The play loop and, for pass-through frames, the publisher's goroutine
// (deliver) use it, never at once: the source's media.Inline lock, or
// the play loop alone once on the transcoder.
type player struct {
	p     *peerSession
	src   *whepSource
	track *rtpTrack
	clock *rtpClock
}

// deliver sends f on the publisher's goroutine when it needs nothing of
// the play loop: a pass-through frame, a DTMF frame (RFC 4733 packets,
// not paced), an event. A frame in another codec is the play loop's (it
// moves the session to a transcoder).
func (pl *player) deliver(f *media.Frame) bool {
	if f.Kind == media.KindAudio && len(f.Payload) > 0 && !pl.src.passes(f) {
		return false
	}
	if err := pl.play(f); err != nil && err != errNotBound {
		pl.p.log.Debug("write rtp", "err", err)
	}
	return true
}

// play sends one frame of a source that needs no transcoder switch.
func (pl *player) play(f *media.Frame) error {
	switch {
	case f.Kind == media.KindPublish:
		pl.clock.reset() // a new publisher: its timestamps start afresh
	case f.Kind == media.KindDTMF:
		pl.p.sendDigits(pl.track, pl.clock, f.Payload)
	case f.Kind != media.KindAudio || len(f.Payload) == 0:
	default:
		st := &pl.p.s.Stats
		if on, passing := pl.src.transcoding(); !on || passing {
			st.PassedThrough.Add(1)
		} else {
			st.Transcoded.Add(1)
		}
		ts, marker := pl.clock.stamp(f.Timestamp, frameLength(pl.src.target.ID, f.Payload))
		return pl.track.writeAudio(f.Payload, ts, marker)
	}
	return nil
}

// playLoop sends the frames the source queued (those deliver left, or
// all of a transcoder's) until the session ends (closing the source ends
// next).
func (p *peerSession) playLoop(pl *player) {
	src := pl.src
	for {
		f, unlock, err := src.next()
		if err != nil {
			return
		}
		stop := false
		if f.Kind == media.KindAudio && len(f.Payload) > 0 && !src.passes(f) {
			if on, _ := src.transcoding(); !on {
				if err := src.toTranscoder(f); err != nil {
					p.log.Info("webrtc player needs a transcoder", "codec", f.Codec, "err", err)
					p.close(err.Error())
					stop = true
				}
			}
		} else if err := pl.play(f); err != nil && err != errNotBound {
			p.log.Debug("write rtp", "err", err)
			stop = true
		}
		unlock()
		if stop {
			return
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

// readRTCP reads the browser's RTCP (so that the report interceptor sees
// it) and hands each report block about the session's audio to onBlock
// (its loss fraction to whepSource.peerLoss, the transcoder's Opus FEC,
// as the lite engine's sessions do; its figures to the session's record);
// it ends when the sender closes.
func readRTCP(s *webrtc.RTPSender, onBlock func(rtcp.ReceptionReport)) {
	var ssrc webrtc.SSRC
	if enc := s.GetParameters().Encodings; len(enc) > 0 {
		ssrc = enc[0].SSRC
	}
	for {
		pkts, _, err := s.ReadRTCP()
		if err != nil {
			return
		}
		for _, pkt := range pkts {
			for _, b := range rtcpblocks.About(pkt, uint32(ssrc)) {
				onBlock(b)
			}
		}
	}
}
