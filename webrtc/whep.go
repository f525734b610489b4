package webrtc

import (
	"context"
	"fmt"
	"time"

	"github.com/pion/webrtc/v4"
	pmedia "github.com/pion/webrtc/v4/pkg/media"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/media/transcode"
)

// frameDur is an Opus frame's length when timestamps do not say better.
const frameDur = 20 * time.Millisecond

// startWHEP adds a send-only Opus track fed by the stream, transcoded to
// Opus 48 kHz (shared with every other Opus player of the stream; a stream
// published in Opus passes through untouched).
func (p *peerSession) startWHEP() error {
	track, err := webrtc.NewTrackLocalStaticSample(opusCodec.RTPCodecCapability, "audio", "flashvox")
	if err != nil {
		return fmt.Errorf("webrtc: opus track: %w", err)
	}
	sender, err := p.pc.AddTrack(track)
	if err != nil {
		return fmt.Errorf("webrtc: add track: %w", err)
	}
	q := p.s.o.Hub.NewQueue(0)
	sub, err := p.s.o.Transcoder.Subscribe(p.key, transcode.Target{Codec: codec.Opus, Rate: 48000, Budget: p.s.o.MaxTranscoders}, q)
	if err != nil {
		return fmt.Errorf("%w: %v", errNoTranscoder, err)
	}
	p.stop = sub.Close
	go drainRTCP(sender)
	go p.playLoop(q, track)
	return nil
}

// playLoop writes the stream's Opus frames to the track until the session
// ends (closing the subscription closes q).
func (p *peerSession) playLoop(q *media.Queue, track *webrtc.TrackLocalStaticSample) {
	var last uint32
	have := false
	for {
		f, err := q.Next(context.Background())
		if err != nil {
			return
		}
		if f.Kind != media.KindAudio || f.Codec != codec.Opus {
			if f.Kind == media.KindPublish {
				have = false // a new publisher: its timestamps start afresh
			}
			continue
		}
		d := frameDur
		if have {
			// The gap since the last frame, so the RTP clock follows the
			// publisher's pauses; a jump (new anchor) counts as one frame.
			if ms := int32(f.Timestamp - last); ms > 0 && ms <= 1000 {
				d = time.Duration(ms) * time.Millisecond
			}
		}
		last, have = f.Timestamp, true
		if err := track.WriteSample(pmedia.Sample{Data: f.Payload, Duration: d}); err != nil {
			p.log.Debug("write sample", "err", err)
			return
		}
	}
}

// drainRTCP reads the browser's RTCP so the interceptors (NACK, reports)
// see it; it ends when the sender closes.
func drainRTCP(s *webrtc.RTPSender) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := s.Read(buf); err != nil {
			return
		}
	}
}
