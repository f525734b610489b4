package webrtc

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/pion/webrtc/v4"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/opus"
	"github.com/flashvox/flashvox/media"
)

var errNoTranscoder = errors.New("no Opus transcoder for this stream")

// startWHIP publishes the browser's audio on the session's key: the name
// is taken now, so a name in use is refused before any ICE work.
func (p *peerSession) startWHIP() error {
	pub, err := p.s.o.Hub.Publish(p.key)
	if err != nil {
		return fmt.Errorf("%w: %v", errInUse, err)
	}
	p.stop = pub.Close
	if _, err := p.pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		return fmt.Errorf("webrtc: add transceiver: %w", err)
	}
	var started atomic.Bool // OnTrack runs once per remote track; only the first Opus one is published
	p.pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if tr.Kind() != webrtc.RTPCodecTypeAudio || !strings.EqualFold(tr.Codec().MimeType, webrtc.MimeTypeOpus) || started.Swap(true) {
			return
		}
		go p.publishLoop(tr, pub)
	})
	return nil
}

// publishLoop turns the browser's RTP packets into hub frames: one Opus
// packet per RTP packet (RFC 7587), the RTP clock (48 kHz) converted to
// milliseconds once, here, from the first packet on. Reordering is not
// repaired (the interceptors ask for lost packets again; a late packet is
// published late and the decoders conceal).
func (p *peerSession) publishLoop(tr *webrtc.TrackRemote, pub *media.Publisher) {
	var first uint32
	have := false
	for {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			p.close("track ended: " + err.Error())
			return
		}
		if len(pkt.Payload) == 0 || len(pkt.Payload) > opus.MaxPacketSize {
			continue // padding, or nothing a voice packet can be
		}
		if !have {
			first, have = pkt.Timestamp, true
		}
		ms := (pkt.Timestamp - first) / 48 // wraps after 24.8 hours, like the RTP clock
		pub.Write(&media.Frame{Kind: media.KindAudio, Codec: codec.Opus, Rate: 48000, Channels: 1,
			Timestamp: ms, Payload: append([]byte(nil), pkt.Payload...)})
	}
}
