package whipload

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/webrtc/plane"
)

// answerer is a WHIP/WHEP endpoint on pion, as the edge is: it answers
// an offer in PCMU, as the full ICE controlled agent and DTLS server;
// its first forbidden posts get 403. WHEP answers send on track; WHIP publishers' packets
// are kept in got.
type answerer struct {
	t         *testing.T
	forbidden atomic.Int32
	posts     atomic.Int32
	track     *webrtc.TrackLocalStaticRTP

	mu  sync.Mutex
	got []rtp.Packet
	pcs []*webrtc.PeerConnection
}

func (a *answerer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.posts.Add(1)
	if a.forbidden.Add(-1) >= 0 {
		http.Error(w, "not yet", http.StatusForbidden)
		return
	}
	offer, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil || r.Header.Get("Content-Type") != "application/sdp" {
		http.Error(w, "bad offer", http.StatusBadRequest)
		return
	}
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(Caps["pcmu"], webrtc.RTPCodecTypeAudio); err != nil {
		a.t.Error(err)
		return
	}
	var se webrtc.SettingEngine
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		a.t.Error(err)
		return
	}
	a.mu.Lock()
	a.pcs = append(a.pcs, pc)
	a.mu.Unlock()
	if r.URL.Path == "/whep" {
		if _, err := pc.AddTrack(a.track); err != nil {
			a.t.Error(err)
			return
		}
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			a.mu.Lock()
			a.got = append(a.got, *p)
			a.mu.Unlock()
		}
	})
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: string(offer)}); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	<-gathered
	w.Header().Set("Content-Type", "application/sdp")
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, pc.LocalDescription().SDP)
}

func (a *answerer) close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, pc := range a.pcs {
		_ = pc.Close()
	}
}

func (a *answerer) packets() []rtp.Packet {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]rtp.Packet(nil), a.got...)
}

func newAnswerer(t *testing.T, forbidden int32) (*answerer, string) {
	t.Helper()
	track, err := webrtc.NewTrackLocalStaticRTP(Caps["pcmu"].RTPCodecCapability, "a", "server")
	if err != nil {
		t.Fatal(err)
	}
	a := &answerer{t: t, track: track}
	a.forbidden.Store(forbidden)
	srv := httptest.NewServer(a)
	t.Cleanup(func() { srv.Close(); a.close() })
	return a, srv.URL
}

// TestPlanePublisher: a plane publisher asked twice with 403 connects
// to a pion answerer (full ICE, controlled; DTLS server) on its third
// offer and sends what a browser would: version 2, the answer's payload
// type (pion's is the offer's; TestChosenPT reads others), one SSRC, the sequence number +1
// and the timestamp +160 a frame, the marker on the first packet only.
func TestPlanePublisher(t *testing.T) {
	a, url := newAnswerer(t, 2)
	c, err := NewClient("plane")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Publisher(ctx, "pcmu", url+"/whip", 1); err == nil {
		t.Fatal("a second 403 with one retry allowed: no error")
	}
	a.forbidden.Store(2)
	pub, err := c.Publisher(ctx, "pcmu", url+"/whip", 2)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	if n := a.posts.Load(); n != 5 {
		t.Errorf("%d posts, want 5 (two 403 with one retry, two and the answer)", n)
	}
	testwait.For(t, 5*time.Second, "the publisher connects", func() bool { return Up(pub) })
	frame := make([]byte, 160)
	const frames = 10
	for range frames {
		if err := pub.WriteFrame(frame); err != nil {
			t.Fatal(err)
		}
	}
	testwait.For(t, 5*time.Second, "10 packets at the answerer", func() bool { return len(a.packets()) == frames })
	got := a.packets()
	for i, p := range got {
		h, first := p.Header, got[0].Header
		if h.Version != 2 || h.PayloadType != 0 || h.SSRC != first.SSRC || len(p.Payload) != 160 ||
			h.SequenceNumber != first.SequenceNumber+uint16(i) || h.Timestamp != first.Timestamp+uint32(160*i) || h.Marker != (i == 0) {
			t.Errorf("packet %d: %+v (first %+v)", i, h, first)
		}
	}
}

// TestPlanePlayer: a plane player gets the packets a pion answerer
// sends it, payloads intact.
func TestPlanePlayer(t *testing.T) {
	a, url := newAnswerer(t, 0)
	c, err := NewClient("plane")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var heard atomic.Int32
	play, err := c.Player(context.Background(), "pcmu", url+"/whep", 0, func(p *rtp.Packet) {
		if len(p.Payload) == 160 && p.Payload[3] == 7 && p.Payload[159] == 0xFF {
			heard.Add(1)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer play.Close()
	testwait.For(t, 5*time.Second, "the player connects", func() bool { return Up(play) })
	seq := uint16(0)
	testwait.For(t, 5*time.Second, "the player hears 5 frames", func() bool {
		seq++
		p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: seq, Timestamp: 160 * uint32(seq), SSRC: 42},
			Payload: Stamp("pcmu", 7, time.Now())}
		if err := a.track.WriteRTP(p); err != nil {
			t.Fatal(err)
		}
		return heard.Load() >= 5
	})
	play.Close()
	if Up(play) {
		t.Error("a closed player is still up")
	}
}

// TestChosenPT: the payload type is the answer's for the codec's name
// and clock; an answer without it, or without audio, is an error.
func TestChosenPT(t *testing.T) {
	opus, _ := format("opus")
	for _, c := range []struct {
		formats []plane.Format
		audio   int
		want    int // -1: an error
	}{
		{[]plane.Format{{PT: 0, Name: "pcmu", Clock: 8000}, {PT: 109, Name: "opus", Clock: 48000, Channels: 2}, {PT: 110, Name: "telephone-event", Clock: 48000}}, 0, 109},
		{[]plane.Format{{PT: 111, Name: "opus", Clock: 16000}}, 0, -1},
		{[]plane.Format{{PT: 0, Name: "pcmu", Clock: 8000}}, 0, -1},
		{nil, -1, -1},
	} {
		d := plane.Description{Audio: c.audio}
		if c.audio >= 0 {
			d.Sections = []plane.Section{{Kind: "audio", Formats: c.formats}}
		}
		pt, err := chosenPT(d, opus)
		if (c.want < 0) != (err != nil) || (err == nil && int(pt) != c.want) {
			t.Errorf("%+v: %d %v, want %d", c.formats, pt, err, c.want)
		}
	}
	if _, err := NewClient("chrome"); err == nil {
		t.Error("client chrome: no error")
	}
}
