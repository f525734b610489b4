package webrtc

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"strings"
	"sync"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// rtpTrack is a WHEP session's outgoing audio: a TrackLocal that writes
// its own RTP packets, so the audio and the RFC 4733 events share one
// SSRC, one sequence and one clock (pion's sample track sends a single
// payload type). Bind runs on pion's goroutine, the writes on the play
// loop's; mu guards the binding.
type rtpTrack struct {
	c rtpCodec

	mu     sync.Mutex
	w      rtpWriter // nil until Bind (or bindPlane)
	ssrc   uint32
	pt     uint8
	evPT   uint8
	events bool // telephone-event negotiated
	seq    uint16
	hdr    rtp.Header // reused by write: pion does not keep it past WriteRTP
	// packets and payload octets written (the pion engine's records; the
	// lite engine's plane counts its own)
	packets, octets uint32
}

// sent is the packets and payload octets written so far.
func (t *rtpTrack) sent() (packets, octets uint32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.packets, t.octets
}

var errNotBound = errors.New("webrtc: track not bound yet")

// rtpWriter is where a track's packets go: pion's TrackLocalWriter, or a
// media plane session.
type rtpWriter interface {
	WriteRTP(h *rtp.Header, payload []byte) (int, error)
}

// bindPlane binds the track to a media plane session once it is
// connected, with the payload types the offer gave the codec and
// telephone-event (evOK false: not negotiated).
func (t *rtpTrack) bindPlane(w rtpWriter, ssrc uint32, pt, evPT uint8, evOK bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.w, t.ssrc, t.pt, t.evPT, t.events = w, ssrc, pt, evPT, evOK
}

func newRTPTrack(c rtpCodec) *rtpTrack {
	var b [2]byte
	_, _ = rand.Read(b[:])
	return &rtpTrack{c: c, seq: binary.BigEndian.Uint16(b[:])}
}

// Bind takes the negotiated payload types: the session's codec, and
// telephone-event at its clock.
func (t *rtpTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var found *webrtc.RTPCodecParameters
	for _, p := range ctx.CodecParameters() {
		switch {
		case strings.EqualFold(p.MimeType, t.c.cap.MimeType) && p.ClockRate == t.c.cap.ClockRate && found == nil:
			found = &p
		case strings.EqualFold(p.MimeType, mimeTelephoneEvent) && p.ClockRate == t.c.cap.ClockRate:
			t.evPT, t.events = uint8(p.PayloadType), true
		}
	}
	if found == nil {
		return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
	}
	t.w, t.ssrc, t.pt = ctx.WriteStream(), uint32(ctx.SSRC()), uint8(found.PayloadType)
	return *found, nil
}

// Unbind forgets the writer.
func (t *rtpTrack) Unbind(webrtc.TrackLocalContext) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.w = nil
	return nil
}

// ID, RID, StreamID and Kind name the track in SDP.
func (t *rtpTrack) ID() string                { return "audio" }
func (t *rtpTrack) RID() string               { return "" }
func (t *rtpTrack) StreamID() string          { return "flashvox" }
func (t *rtpTrack) Kind() webrtc.RTPCodecType { return webrtc.RTPCodecTypeAudio }

// hasEvents reports whether the player negotiated telephone-event.
func (t *rtpTrack) hasEvents() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.events && t.w != nil
}

// writeAudio sends one codec packet stamped ts; marker starts a talkspurt.
func (t *rtpTrack) writeAudio(payload []byte, ts uint32, marker bool) error {
	return t.write(false, payload, ts, marker)
}

// write sends one packet of the codec, or of telephone-event when event.
func (t *rtpTrack) write(event bool, payload []byte, ts uint32, marker bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.w == nil {
		return errNotBound
	}
	pt := t.pt
	if event {
		pt = t.evPT
	}
	// One header per track, not per packet: WriteRTP takes a pointer
	// through interfaces, so a local header would escape to the heap.
	t.hdr = rtp.Header{Version: 2, Marker: marker, PayloadType: pt, SequenceNumber: t.seq, Timestamp: ts, SSRC: t.ssrc}
	t.seq++
	_, err := t.w.WriteRTP(&t.hdr, payload)
	if err == nil {
		t.packets++
		t.octets += uint32(len(payload))
	}
	return err
}
