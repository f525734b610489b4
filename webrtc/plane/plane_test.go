package plane

import (
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/flashvox/flashvox/internal/test/testwait"
)

var pcmu = []Format{{PT: 0, Name: "pcmu", Clock: 8000}}

func listenT(t *testing.T, cfg Config) *Plane {
	t.Helper()
	if !cfg.Addr.IsValid() {
		cfg.Addr = netip.MustParseAddrPort("127.0.0.1:0")
	}
	p, err := Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// answer runs the answering side for offer on p: a session whose
// packets count into got.
func answer(t *testing.T, p *Plane, offer, dir string, got *atomic.Int64) (*Session, string) {
	t.Helper()
	d, err := ParseSDP(offer)
	if err != nil {
		t.Fatal(err)
	}
	s, err := p.NewSession(false, func(pkt *rtp.Packet) {
		if len(pkt.Payload) == 160 {
			got.Add(1)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(d.Remote, nil); err != nil {
		t.Fatal(err)
	}
	return s, WriteAnswer(Answer{Offer: d, Local: s.Local(), Fingerprint: p.Fingerprint(), Direction: dir,
		Formats: pcmu, SSRC: 1234, Candidates: []netip.AddrPort{p.Addr()}})
}

// TestPionBrowserBothWays: a pion PeerConnection (a browser's stack:
// full ICE, DTLS client) offers sendrecv PCMU; the plane answers
// ICE-lite; audio goes both ways.
func TestPionBrowserBothWays(t *testing.T) {
	p := listenT(t, Config{})
	pc, track, _ := pionPCMU(t)
	var heard atomic.Int64
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for {
			pkt, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			if len(pkt.Payload) == 160 {
				heard.Add(1)
			}
		}
	})
	var got atomic.Int64
	s, ans := answer(t, p, pionOffer(t, pc), "sendrecv", &got)
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: ans}); err != nil {
		t.Fatalf("%v\n%s", err, ans)
	}
	select {
	case <-s.Connected():
	case <-time.After(5 * time.Second):
		t.Fatalf("not connected: %v", s.Err())
	}
	payload := make([]byte, 160)
	hdr := rtp.Header{Version: 2, PayloadType: 0, SSRC: 1234}
	testwait.For(t, 5*time.Second, "audio both ways", func() bool {
		hdr.SequenceNumber++
		hdr.Timestamp += 160
		_ = track.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: hdr.SequenceNumber, Timestamp: hdr.Timestamp, SSRC: 99}, Payload: payload})
		if _, err := s.WriteRTP(&hdr, payload); err != nil {
			t.Fatal(err)
		}
		return got.Load() >= 10 && heard.Load() >= 10
	})
	if st := p.Stats.BadSRTP.Load(); st != 0 {
		t.Errorf("%d SRTP packets refused", st)
	}
	_ = pc.Close()
	testwait.For(t, 5*time.Second, "the session ends on the peer's close_notify", func() bool {
		select {
		case <-s.Done():
			return true
		default:
			return false
		}
	})
	if p.Sessions() != 0 {
		t.Errorf("%d sessions left", p.Sessions())
	}
}

// pionPCMU is a pion PeerConnection (a browser's stack: full ICE, the
// DTLS client, its own SRTP and RTCP) sending a PCMU track on loopback.
func pionPCMU(t *testing.T) (*webrtc.PeerConnection, *webrtc.TrackLocalStaticRTP, *webrtc.RTPSender) {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000}, PayloadType: 0}, webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000}, "a", "b")
	if err != nil {
		t.Fatal(err)
	}
	sender, err := pc.AddTrack(track)
	if err != nil {
		t.Fatal(err)
	}
	return pc, track, sender
}

// pionOffer is pc's offer with its candidates gathered.
func pionOffer(t *testing.T, pc *webrtc.PeerConnection) string {
	t.Helper()
	off, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(off); err != nil {
		t.Fatal(err)
	}
	<-gathered
	return pc.LocalDescription().SDP
}

// dialPair connects a dialling session on a to an answering one on b.
func dialPair(t *testing.T, a, b *Plane, gotA, gotB *atomic.Int64) (*Session, *Session) {
	t.Helper()
	da, err := a.NewSession(true, func(pkt *rtp.Packet) { gotA.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	offer := WriteOffer(da.Local(), a.Fingerprint(), "sendrecv", pcmu, 77)
	sb, ans := answer(t, b, offer, "sendrecv", gotB)
	d, err := ParseSDP(ans)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Lite || len(d.Candidates) != 1 {
		t.Fatalf("answer: lite %v, candidates %v", d.Lite, d.Candidates)
	}
	if err := da.Start(d.Remote, d.Candidates); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Session{da, sb} {
		select {
		case <-s.Connected():
		case <-time.After(5 * time.Second):
			t.Fatalf("not connected: %v", s.Err())
		}
	}
	return da, sb
}

// TestDialAndAnswer: the plane's two roles talk to each other (the
// bench's load client and the server).
func TestDialAndAnswer(t *testing.T) {
	a, b := listenT(t, Config{}), listenT(t, Config{Readers: 2})
	var gotA, gotB atomic.Int64
	da, sb := dialPair(t, a, b, &gotA, &gotB)
	payload := make([]byte, 160)
	h := rtp.Header{Version: 2, SSRC: 5}
	for i := 0; i < 20; i++ {
		h.SequenceNumber++
		if _, err := da.WriteRTP(&h, payload); err != nil {
			t.Fatal(err)
		}
		if _, err := sb.WriteRTP(&h, payload); err != nil {
			t.Fatal(err)
		}
	}
	testwait.For(t, 5*time.Second, "20 packets each way", func() bool { return gotA.Load() == 20 && gotB.Load() == 20 })
	da.Close()
	testwait.For(t, 5*time.Second, "the answering side ends on close_notify", func() bool { return b.Sessions() == 0 })
}
