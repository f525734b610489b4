package testpeer

import (
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/pion/ice/v4"
	"github.com/pion/rtp"
	pionwebrtc "github.com/pion/webrtc/v4"
)

// RawTrack is a pion track that writes whole RTP packets of any
// negotiated payload type (pion's own tracks rewrite it), as a browser
// sending RFC 4733 events on its audio SSRC does.
type RawTrack struct {
	t    testing.TB
	c    pionwebrtc.RTPCodecCapability
	mu   sync.Mutex
	w    pionwebrtc.TrackLocalWriter
	ssrc uint32
	pts  map[string]uint8 // negotiated payload types by MIME type, lower case
	seq  uint16
}

// Bind takes the negotiated payload types (pion calls it).
func (r *RawTrack) Bind(ctx pionwebrtc.TrackLocalContext) (pionwebrtc.RTPCodecParameters, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pts = map[string]uint8{}
	var found pionwebrtc.RTPCodecParameters
	for _, p := range ctx.CodecParameters() {
		r.pts[strings.ToLower(p.MimeType)] = uint8(p.PayloadType)
		if strings.EqualFold(p.MimeType, r.c.MimeType) {
			found = p
		}
	}
	r.w, r.ssrc = ctx.WriteStream(), uint32(ctx.SSRC())
	return found, nil
}

// Unbind, ID, RID, StreamID and Kind complete pionwebrtc.TrackLocal.
func (r *RawTrack) Unbind(pionwebrtc.TrackLocalContext) error { return nil }
func (r *RawTrack) ID() string                                { return "a" }
func (r *RawTrack) RID() string                               { return "" }
func (r *RawTrack) StreamID() string                          { return "s" }
func (r *RawTrack) Kind() pionwebrtc.RTPCodecType             { return pionwebrtc.RTPCodecTypeAudio }

// Send writes one packet of MIME type mime ("audio/pcmu",
// "audio/telephone-event"); false if it is not negotiated yet.
func (r *RawTrack) Send(mime string, ts uint32, marker bool, payload []byte) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	pt, ok := r.pts[mime]
	if r.w == nil || !ok {
		return false
	}
	r.seq++
	h := rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: r.seq, Timestamp: ts, SSRC: r.ssrc, Marker: marker}
	if _, err := r.w.WriteRTP(&h, payload); err != nil {
		r.t.Logf("raw track: write: %v", err)
	}
	return true
}

// PionDTMFPublisher is a pion PeerConnection on 127.0.0.1 only that
// offers PCMU (PT 0) and telephone-event/8000 (PT 101) with a send-only
// RawTrack of PCMU: a WHIP client sending in-band digits. It is closed
// when the test ends; the caller negotiates it (its URL, its credentials).
func PionDTMFPublisher(t testing.TB) (*pionwebrtc.PeerConnection, *RawTrack) {
	t.Helper()
	pcmu := pionwebrtc.RTPCodecCapability{MimeType: pionwebrtc.MimeTypePCMU, ClockRate: 8000}
	m := &pionwebrtc.MediaEngine{}
	for _, p := range []pionwebrtc.RTPCodecParameters{
		{PayloadType: 0, RTPCodecCapability: pcmu},
		{PayloadType: 101, RTPCodecCapability: pionwebrtc.RTPCodecCapability{MimeType: "audio/telephone-event", ClockRate: 8000, SDPFmtpLine: "0-15"}},
	} {
		if err := m.RegisterCodec(p, pionwebrtc.RTPCodecTypeAudio); err != nil {
			t.Fatal(err)
		}
	}
	var s pionwebrtc.SettingEngine
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	s.SetIncludeLoopbackCandidate(true)
	s.SetIPFilter(func(ip net.IP) bool { return ip.Equal(net.IPv4(127, 0, 0, 1)) })
	s.SetNetworkTypes([]pionwebrtc.NetworkType{pionwebrtc.NetworkTypeUDP4})
	pc, err := pionwebrtc.NewAPI(pionwebrtc.WithMediaEngine(m), pionwebrtc.WithSettingEngine(s)).NewPeerConnection(pionwebrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	tr := &RawTrack{t: t, c: pcmu}
	if _, err := pc.AddTransceiverFromTrack(tr, pionwebrtc.RTPTransceiverInit{Direction: pionwebrtc.RTPTransceiverDirectionSendonly}); err != nil {
		t.Fatal(err)
	}
	return pc, tr
}

// DTMFEvent is an RFC 4733 payload: event ev (0-9, 10 = *, 11 = #),
// volume 10, end flag, duration in timestamp units.
func DTMFEvent(ev uint8, end bool, dur uint16) []byte {
	b := []byte{ev, 10, byte(dur >> 8), byte(dur)}
	if end {
		b[1] |= 0x80
	}
	return b
}

// DTMFDigit is the eight payloads of one 100 ms digit at 8 kHz, sent one
// per 20 ms, all with the event's one timestamp, the first marked: five
// updates (duration 160 to 800), then the end three times.
func DTMFDigit(ev uint8) [][]byte {
	out := make([][]byte, 8)
	for k := range out {
		out[k] = DTMFEvent(ev, k >= 5, uint16(160*min(k+1, 5)))
	}
	return out
}
