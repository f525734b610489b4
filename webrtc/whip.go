package webrtc

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/opus"
	"github.com/flashvox/flashvox/media"
)

// receiveMTU sizes publishLoop's read buffer: at least pion's receive MTU
// (1460 unless the SettingEngine says otherwise; ours does not), so no
// packet pion accepted is too long for it.
const receiveMTU = 1500

var errNoTranscoder = errors.New("no transcoder for this stream in the player's codec")

// startWHIP publishes the browser's audio on the session's key: the name
// is taken now, so a name in use is refused before any ICE work.
func (p *peerSession) startWHIP() error {
	pub, err := p.publishKey()
	if err != nil {
		return err
	}
	if _, err := p.pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		return fmt.Errorf("webrtc: add transceiver: %w", err)
	}
	var started atomic.Bool // OnTrack runs once per remote track; only the first audio one is published
	p.pc.OnTrack(func(tr *webrtc.TrackRemote, rcv *webrtc.RTPReceiver) {
		if tr.Kind() != webrtc.RTPCodecTypeAudio || started.Swap(true) {
			return
		}
		go p.publishLoop(tr, p.newWHIPIn(pub, p.payloadTypes(rcv.GetParameters().Codecs)))
	})
	return nil
}

// publishKey takes the session's key as a publisher.
func (p *peerSession) publishKey() (*media.Publisher, error) {
	pub, err := p.s.o.Hub.PublishClient(p.key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errInUse, err)
	}
	p.stop = pub.Close
	// The session has one codec, known from the offer: a SIP leg or a
	// WHEP player that looks before the first packet (media.Hub.AudioCodec)
	// plays it in that codec, or through a transcoder from the start.
	pub.DeclareAudioCodec(p.codec.id)
	// The server may end the publication (in a cluster: the name went to
	// another node's publisher): the session ends with it, the browser's
	// connection closes. Not on End's goroutine: close waits for pion.
	pub.OnEnd(func(why error) { go p.close(fmt.Sprint("publication ended: ", why)) })
	return pub, nil
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

// whipIn turns the browser's RTP packets into hub frames: one codec
// packet per RTP packet (RFC 7587 for Opus; G.711 and G.722 as sent), the
// RTP clock converted to milliseconds once, here, from the first packet
// on, and RFC 4733 digits into KindDTMF frames. Reordering is not
// repaired (a late packet is published late and the decoders conceal).
// Only the payload is copied, into the frame the hub shares. One
// goroutine at a time calls packet: pion's track reader (publishLoop) or
// the media plane's reader of the session's address.
type whipIn struct {
	p      *peerSession
	pub    *media.Publisher
	pts    negotiated
	in     codec.Info
	perMs  uint32
	limit  int
	first  uint32
	have   bool
	det    eventDetector
	bucket digitBucket
}

func (p *peerSession) newWHIPIn(pub *media.Publisher, pts negotiated) *whipIn {
	in, _ := codec.Lookup(p.codec.id)
	return &whipIn{p: p, pub: pub, pts: pts, in: in, perMs: p.codec.cap.ClockRate / 1000, limit: maxPayload(in.ID)}
}

// packet publishes one RTP packet.
func (w *whipIn) packet(pkt *rtp.Packet) {
	if !w.have {
		w.first, w.have = pkt.Timestamp, true
	}
	ms := (pkt.Timestamp - w.first) / w.perMs // wraps like the RTP clock
	switch {
	case w.pts.evOK && pkt.PayloadType == w.pts.ev:
		d, ok := w.det.push(pkt.Timestamp, pkt.Payload)
		if !ok {
			return
		}
		if !w.bucket.allow(time.Now()) {
			w.p.s.Stats.DTMFDropped.Add(1)
			return
		}
		w.p.s.Stats.DTMFIn.Add(1)
		w.pub.Write(&media.Frame{Kind: media.KindDTMF, Timestamp: ms, Payload: []byte{d}})
	case pkt.PayloadType == w.pts.audio && len(pkt.Payload) > 0 && len(pkt.Payload) <= w.limit:
		f := newAudioFrame(pkt.Payload)
		f.Codec, f.Rate, f.Channels, f.Timestamp = w.in.ID, w.in.SampleRate, 1, ms
		w.pub.Write(f)
	}
}

// publishLoop reads a pion track into w. One read buffer and one
// rtp.Packet for the session's life (pion's ReadRTP allocates an
// MTU-sized buffer and a packet per call). A packet that does not parse
// is skipped (SRTP has authenticated it; it is not worth ending the
// call over).
func (p *peerSession) publishLoop(tr *webrtc.TrackRemote, w *whipIn) {
	buf := make([]byte, receiveMTU)
	pkt := &rtp.Packet{}
	for {
		n, _, err := tr.Read(buf)
		if err != nil {
			p.close("track ended: " + err.Error())
			return
		}
		if pkt.Unmarshal(buf[:n]) != nil {
			continue
		}
		p.stats.received(pkt, time.Now())
		w.packet(pkt)
	}
}

// inlinePayload is the payload newAudioFrame keeps inside the frame's own
// allocation: 20 ms of G.711 or G.722 (160 bytes) or of Opus at up to
// 76 kbit/s.
const inlinePayload = 192

// frameWithPayload is a frame and its payload in one allocation.
type frameWithPayload struct {
	f   media.Frame
	buf [inlinePayload]byte
}

// newAudioFrame is an audio frame holding a copy of payload (the read
// buffer is reused; the hub's subscribers keep the frame), in one
// allocation instead of two when the payload fits.
func newAudioFrame(payload []byte) *media.Frame {
	if len(payload) > inlinePayload {
		return &media.Frame{Kind: media.KindAudio, Payload: append([]byte(nil), payload...)}
	}
	fp := &frameWithPayload{}
	n := copy(fp.buf[:], payload)
	fp.f.Kind, fp.f.Payload = media.KindAudio, fp.buf[:n:n]
	return &fp.f
}
