package rtmfp

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/rtmfp/wire"
)

func TestIntroAddrsOrder(t *testing.T) {
	obs := netip.MustParseAddrPort("203.0.113.5:40000")
	priv := []netip.AddrPort{netip.MustParseAddrPort("192.168.1.10:5000"), obs}
	got := introAddrs(netip.MustParseAddrPort("198.51.100.1:1000"), obs, priv)
	if len(got) != 2 || got[0] != (wire.Address{Addr: obs, Origin: wire.OriginObserved}) || got[1].Origin != wire.OriginReported {
		t.Errorf("different NATs: %+v", got)
	}
	got = introAddrs(netip.MustParseAddrPort("203.0.113.5:41000"), obs, priv)
	if len(got) != 2 || got[0] != (wire.Address{Addr: priv[0], Origin: wire.OriginReported}) || got[1] != (wire.Address{Addr: obs, Origin: wire.OriginObserved}) {
		t.Errorf("same NAT: %+v", got)
	}
}

// peerHello sends an IHello for peer ID fp from c and returns the Redirect
// answered within wait, or nil.
func peerHello(t *testing.T, c *net.UDPConn, fp []byte, wait time.Duration) *wire.Redirect {
	t.Helper()
	ih := wire.IHello{EPD: (&wire.EPD{Fingerprint: fp}).AppendTo(nil), Tag: []byte("0123456789abcdef")}
	hs := wire.NewDefaultCrypto()
	_, _ = c.Write(hs.Seal(nil, 0, (&wire.Packet{Header: wire.Header{Flags: wire.ModeStartup}, Chunks: []wire.Chunk{{Type: wire.ChunkIHello, Value: ih.AppendTo(nil)}}}).AppendTo(nil)))
	buf := make([]byte, wire.MaxDatagram)
	_ = c.SetReadDeadline(time.Now().Add(wait))
	n, err := c.Read(buf)
	if err != nil {
		return nil
	}
	plain, err := hs.Open(nil, buf[4:n])
	var p wire.Packet
	if err != nil || p.Unmarshal(plain) != nil || len(p.Chunks) == 0 || p.Chunks[0].Type != wire.ChunkRedirect {
		t.Fatalf("reply is not a redirect: %+v %v", p, err)
	}
	var r wire.Redirect
	if err := r.Unmarshal(p.Chunks[0].Value); err != nil {
		t.Fatal(err)
	}
	return &r
}

// registeredPeer dials srv and makes the session reachable by peer ID, as
// setPeerInfo does.
func registeredPeer(t *testing.T, srv *Server, pc *net.UDPConn) *Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, "rtmfp://"+pc.LocalAddr().String()+"/live", DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	srv.mu.Lock()
	var ss *session
	for _, s := range srv.sessions {
		s.mu.Lock()
		if s.far == c.s.near {
			ss = s
		}
		s.mu.Unlock()
	}
	srv.mu.Unlock()
	if ss == nil {
		t.Fatal("no server session for the client")
	}
	srv.registerPeer(ss)
	return c
}

func udpTo(t *testing.T, pc *net.UDPConn, local string) *net.UDPConn {
	t.Helper()
	c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(local)}, pc.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestIntroductionLimits: introductions are limited per initiator address
// and per introduced session, each per second.
func TestIntroductionLimits(t *testing.T) {
	srv, pc := startServer(t, Config{IntroductionsPerSecond: 3, IntroductionsPerPeer: 5})
	a := registeredPeer(t, srv, pc)
	fp := a.s.near[:]
	// Within one second of the server's clock: align to a fresh second.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
	from1 := udpTo(t, pc, "127.0.0.1")
	got := 0
	for range 6 {
		if peerHello(t, from1, fp, 100*time.Millisecond) != nil {
			got++
		}
	}
	if got != 3 {
		t.Errorf("one address got %d introductions in a second, want 3 (per-address limit)", got)
	}
	from2 := udpTo(t, pc, "127.0.0.2")
	from3 := udpTo(t, pc, "127.0.0.3")
	got = 0
	for range 3 {
		for _, c := range []*net.UDPConn{from2, from3} {
			if peerHello(t, c, fp, 100*time.Millisecond) != nil {
				got++
			}
		}
	}
	if got != 2 {
		t.Errorf("the peer was introduced %d more times in the second, want 2 (per-peer limit of 5)", got)
	}
	if n := srv.Stats().IntroductionsRefused.Load(); n != 7 {
		t.Errorf("refused %d, want 7", n)
	}
}

// TestUnknownPeer: a peer ID with no open session gets silence, or a
// Redirect to the configured other servers; a closed session's ID is not
// introduced any more.
func TestUnknownPeer(t *testing.T) {
	other := netip.MustParseAddrPort("192.0.2.9:1935")
	srv, pc := startServer(t, Config{})
	c := udpTo(t, pc, "127.0.0.1")
	if r := peerHello(t, c, make([]byte, 32), 300*time.Millisecond); r != nil {
		t.Errorf("unknown peer answered: %+v", r)
	}
	if srv.Stats().UnknownPeers.Load() != 1 {
		t.Error("unknown lookup not counted")
	}
	a := registeredPeer(t, srv, pc)
	if r := peerHello(t, c, a.s.near[:], time.Second); r == nil || len(r.Addrs) == 0 || r.Addrs[len(r.Addrs)-1].Origin != wire.OriginObserved {
		t.Fatalf("registered peer not introduced: %+v", r)
	}
	_ = a.Close()
	testwait.For(t, 5*time.Second, "the peer answers a hello", func() bool { return peerHello(t, c, a.s.near[:], 200*time.Millisecond) == nil })

	srv2, pc2 := startServer(t, Config{RedirectServers: []netip.AddrPort{other}})
	c2 := udpTo(t, pc2, "127.0.0.1")
	r := peerHello(t, c2, make([]byte, 32), time.Second)
	if r == nil || len(r.Addrs) != 1 || r.Addrs[0] != (wire.Address{Addr: other, Origin: wire.OriginRelay}) {
		t.Errorf("unknown peer not redirected to %s: %+v", other, r)
	}
	if srv2.Stats().UnknownPeers.Load() != 1 {
		t.Error("unknown lookup not counted")
	}
}
