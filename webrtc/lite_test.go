package webrtc_test

import (
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/flashvox/flashvox/internal/test/testpeer"
	fvrtc "github.com/flashvox/flashvox/webrtc"
	"github.com/flashvox/flashvox/webrtc/plane"
)

// TestPlaneClientToLiteEngine: a dialling plane session (the bench's
// load client) publishes PCMU through WHIP and another plays it through
// WHEP, against the lite engine.
func TestPlaneClientToLiteEngine(t *testing.T) {
	e := startEdge(t, nil, fvrtcOptionsLite())
	pcmu := []plane.Format{{PT: 0, Name: "pcmu", Clock: 8000}}
	dial := func(url, dir string, onRTP func(*rtp.Packet)) *plane.Session {
		// A plane (an address) per session: the server tells its
		// sessions apart by their peer's address.
		cp, err := plane.Listen(plane.Config{Addr: netip.MustParseAddrPort("127.0.0.1:0"), Readers: 1, Batch: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cp.Close)
		s, err := cp.NewSession(true, onRTP)
		if err != nil {
			t.Fatal(err)
		}
		res, body := post(t, url, "application/sdp", "", []byte(plane.WriteOffer(s.Local(), cp.Fingerprint(), dir, pcmu, 42)))
		if res.StatusCode != 201 {
			t.Fatalf("%s: %d %s", url, res.StatusCode, body)
		}
		d, err := plane.ParseSDP(body)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(d.Remote, d.Candidates); err != nil {
			t.Fatal(err)
		}
		select {
		case <-s.Connected():
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: not connected: %v; answer:\n%s", url, s.Err(), body)
		}
		return s
	}
	var got atomic.Int64
	pub := dial(e.url+"/live/pc/whip", "sendonly", func(*rtp.Packet) {})
	dial(e.url+"/live/pc/whep", "recvonly", func(p *rtp.Packet) {
		if len(p.Payload) == 160 {
			got.Add(1)
		}
	})
	h := rtp.Header{Version: 2, PayloadType: 0, SSRC: 42}
	payload := make([]byte, 160)
	deadline := time.Now().Add(5 * time.Second)
	for got.Load() < 10 {
		if time.Now().After(deadline) {
			t.Fatalf("the player got %d packets", got.Load())
		}
		h.SequenceNumber++
		h.Timestamp += 160
		if _, err := pub.WriteRTP(&h, payload); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond) // media pacing, not a wait
	}
}

func fvrtcOptionsLite() fvrtc.Options { return fvrtc.Options{Engine: fvrtc.EngineLite} }

// TestLiteCandidates: the lite engine's answer names the public
// addresses of the bound family with the plane's port, and not the
// other family's (an IPv4 socket is not reached at the IPv6 address of
// a dual-stack 1:1 NAT).
func TestLiteCandidates(t *testing.T) {
	e := startEdge(t, nil, fvrtc.Options{Engine: fvrtc.EngineLite, PublicIPs: []string{"192.0.2.7", "2001:db8::7"}})
	res, ans := post(t, e.url+"/live/cand/whep", "application/sdp", "", []byte(testpeer.ChromeOffer))
	if res.StatusCode != 201 {
		t.Fatalf("%d %s", res.StatusCode, ans)
	}
	d, err := plane.ParseSDP(ans)
	if err != nil {
		t.Fatal(err)
	}
	want := netip.AddrPortFrom(netip.MustParseAddr("192.0.2.7"), e.srv.LiteAddr().Port())
	if len(d.Candidates) != 1 || d.Candidates[0] != want || !d.Lite {
		t.Fatalf("candidates %v (lite %v), want only %v:\n%s", d.Candidates, d.Lite, want, ans)
	}
}
