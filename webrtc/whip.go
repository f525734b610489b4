package webrtc

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/opus"
	"github.com/flashvox/flashvox/media"
)

var errNoTranscoder = errors.New("no transcoder for this stream in the player's codec")

// startWHIP publishes the browser's audio on the session's key: the name
// is taken now, so a name in use is refused before any ICE work.
func (p *peerSession) startWHIP() error {
	pub, err := p.s.o.Hub.PublishClient(p.key)
	if err != nil {
		return fmt.Errorf("%w: %v", errInUse, err)
	}
	p.stop = pub.Close
	if _, err := p.pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		return fmt.Errorf("webrtc: add transceiver: %w", err)
	}
	var started atomic.Bool // OnTrack runs once per remote track; only the first audio one is published
	p.pc.OnTrack(func(tr *webrtc.TrackRemote, rcv *webrtc.RTPReceiver) {
		if tr.Kind() != webrtc.RTPCodecTypeAudio || started.Swap(true) {
			return
		}
		pts := p.payloadTypes(rcv.GetParameters().Codecs)
		go p.publishLoop(tr, pub, pts)
	})
	return nil
}

// negotiated are a WHIP session's payload types: its codec, and
// telephone-event when negotiated (evOK).
type negotiated struct {
	audio, ev uint8
	evOK      bool
}

// payloadTypes finds the session codec's and telephone-event's payload
// types among the receiver's negotiated codecs.
func (p *peerSession) payloadTypes(cs []webrtc.RTPCodecParameters) negotiated {
	n := negotiated{audio: uint8(p.codec.pt)}
	for _, c := range cs {
		switch {
		case strings.EqualFold(c.MimeType, p.codec.cap.MimeType) && c.ClockRate == p.codec.cap.ClockRate:
			n.audio = uint8(c.PayloadType)
		case strings.EqualFold(c.MimeType, mimeTelephoneEvent) && c.ClockRate == p.codec.cap.ClockRate:
			n.ev, n.evOK = uint8(c.PayloadType), true
		}
	}
	return n
}

// maxPayload bounds a published packet: an Opus packet's limit, and 160
// ms of G.711 or G.722 (a browser sends 20 ms).
func maxPayload(id codec.ID) int {
	if id == codec.Opus {
		return opus.MaxPacketSize
	}
	return 1280
}

// publishLoop turns the browser's RTP packets into hub frames: one codec
// packet per RTP packet (RFC 7587 for Opus; G.711 and G.722 as sent), the
// RTP clock converted to milliseconds once, here, from the first packet
// on, and RFC 4733 digits into KindDTMF frames. Reordering is not
// repaired (the interceptors ask for lost packets again; a late packet is
// published late and the decoders conceal).
func (p *peerSession) publishLoop(tr *webrtc.TrackRemote, pub *media.Publisher, pts negotiated) {
	in, _ := codec.Lookup(p.codec.id)
	perMs := p.codec.cap.ClockRate / 1000
	limit := maxPayload(in.ID)
	var (
		first  uint32
		have   bool
		det    eventDetector
		bucket digitBucket
	)
	for {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			p.close("track ended: " + err.Error())
			return
		}
		if !have {
			first, have = pkt.Timestamp, true
		}
		ms := (pkt.Timestamp - first) / perMs // wraps like the RTP clock
		switch {
		case pts.evOK && pkt.PayloadType == pts.ev:
			d, ok := det.push(pkt.Timestamp, pkt.Payload)
			if !ok {
				continue
			}
			if !bucket.allow(time.Now()) {
				p.s.Stats.DTMFDropped.Add(1)
				continue
			}
			p.s.Stats.DTMFIn.Add(1)
			pub.Write(&media.Frame{Kind: media.KindDTMF, Timestamp: ms, Payload: []byte{d}})
		case pkt.PayloadType == pts.audio && len(pkt.Payload) > 0 && len(pkt.Payload) <= limit:
			pub.Write(&media.Frame{Kind: media.KindAudio, Codec: in.ID, Rate: in.SampleRate, Channels: 1,
				Timestamp: ms, Payload: append([]byte(nil), pkt.Payload...)})
		}
	}
}
