//go:build cgo

package webrtc_test

import (
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/stun/v4"
	pionwebrtc "github.com/pion/webrtc/v4"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/testwait"
	fvrtc "github.com/flashvox/flashvox/webrtc"
)

// natOutside is the "public" address the fake NAT maps the server's
// sockets to: on loopback, but not an address the server binds.
var natOutside = netip.MustParseAddr("127.0.0.2")

// natSTUN is a STUN server in front of a NAT, both simulated on loopback:
// a Binding request from 127.0.0.1:P is answered with 127.0.0.2:P' (P if
// free), and from then on packets to 127.0.0.2:P' are forwarded to
// 127.0.0.1:P and the answers back, as a NAT's mapping would: from the
// outside, the server's socket is 127.0.0.2:P' and nothing else.
type natSTUN struct {
	t    *testing.T
	conn *net.UDPConn // the STUN server
	wg   sync.WaitGroup

	mu       sync.Mutex
	mappings map[netip.AddrPort]*natMapping // by inside address (the server's socket)
	conns    []*net.UDPConn                 // every socket, closed at the end

	forwarded atomic.Int64 // packets forwarded from outside in
}

// natMapping is one inside socket's public face.
type natMapping struct {
	inside  netip.AddrPort
	outside *net.UDPConn
	peers   map[netip.AddrPort]*net.UDPConn // per outside peer: the socket its packets reach inside from
}

func startNATSTUN(t *testing.T) *natSTUN {
	t.Helper()
	n := &natSTUN{t: t, mappings: map[netip.AddrPort]*natMapping{}}
	n.conn = n.listen(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), 0))
	n.run(n.serveSTUN)
	t.Cleanup(func() {
		n.mu.Lock()
		for _, c := range n.conns {
			_ = c.Close()
		}
		n.mu.Unlock()
		n.wg.Wait()
	})
	return n
}

func (n *natSTUN) url() string { return "stun:" + n.conn.LocalAddr().String() }

func (n *natSTUN) listen(a netip.AddrPort) *net.UDPConn {
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(a))
	if err != nil {
		return nil
	}
	n.mu.Lock()
	n.conns = append(n.conns, c)
	n.mu.Unlock()
	return c
}

// run starts f on a goroutine the cleanup waits for (it ends when its
// socket is closed).
func (n *natSTUN) run(f func()) {
	n.wg.Add(1)
	go func() { defer n.wg.Done(); f() }()
}

// mapped is the outside address of inside (its mapping, made at the first
// Binding request), the zero AddrPort if none.
func (n *natSTUN) mapped(inside netip.AddrPort) netip.AddrPort {
	n.mu.Lock()
	defer n.mu.Unlock()
	if m := n.mappings[inside]; m != nil {
		return m.outside.LocalAddr().(*net.UDPAddr).AddrPort()
	}
	return netip.AddrPort{}
}

// insides are the server sockets that asked for their mapping.
func (n *natSTUN) insides() []netip.AddrPort {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []netip.AddrPort
	for a := range n.mappings {
		out = append(out, a)
	}
	return out
}

func (n *natSTUN) serveSTUN() {
	buf := make([]byte, 1500)
	for {
		k, from, err := n.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		req := &stun.Message{Raw: append([]byte(nil), buf[:k]...)}
		if req.Decode() != nil || req.Type != stun.BindingRequest {
			continue
		}
		out := n.mapping(from)
		if !out.IsValid() {
			continue
		}
		resp := stun.MustBuild(stun.NewTransactionIDSetter(req.TransactionID), stun.BindingSuccess,
			&stun.XORMappedAddress{IP: out.Addr().AsSlice(), Port: int(out.Port())}, stun.Fingerprint)
		_, _ = n.conn.WriteToUDPAddrPort(resp.Raw, from)
	}
}

// mapping makes (or finds) inside's mapping and returns its outside address.
func (n *natSTUN) mapping(inside netip.AddrPort) netip.AddrPort {
	if a := n.mapped(inside); a.IsValid() {
		return a
	}
	out := n.listen(netip.AddrPortFrom(natOutside, inside.Port()))
	if out == nil { // the same port is taken on 127.0.0.2: any other will do
		if out = n.listen(netip.AddrPortFrom(natOutside, 0)); out == nil {
			return netip.AddrPort{}
		}
	}
	m := &natMapping{inside: inside, outside: out, peers: map[netip.AddrPort]*net.UDPConn{}}
	n.mu.Lock()
	n.mappings[inside] = m
	n.mu.Unlock()
	n.run(func() { n.forwardIn(m) })
	return out.LocalAddr().(*net.UDPAddr).AddrPort()
}

// forwardIn passes what reaches m's outside address to the inside socket,
// from one inside socket per outside peer, whose answers go back out.
func (n *natSTUN) forwardIn(m *natMapping) {
	buf := make([]byte, 1500)
	for {
		k, peer, err := m.outside.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		in := m.peers[peer] // only this goroutine touches peers
		if in == nil {
			if in = n.listen(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), 0)); in == nil {
				continue
			}
			m.peers[peer] = in
			n.run(func() { forwardOut(m, in, peer) })
		}
		n.forwarded.Add(1)
		_, _ = in.WriteToUDPAddrPort(buf[:k], m.inside)
	}
}

// forwardOut sends what the inside socket answers to in back to peer from
// the outside address; packets from anyone else are dropped, as a NAT
// drops them.
func forwardOut(m *natMapping, in *net.UDPConn, peer netip.AddrPort) {
	buf := make([]byte, 1500)
	for {
		k, from, err := in.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		if from == m.inside {
			_, _ = m.outside.WriteToUDPAddrPort(buf[:k], peer)
		}
	}
}

// onlyFrom is a client socket that drops every packet not from ip: the
// client hears the server only through the NAT's outside address.
type onlyFrom struct {
	net.PacketConn
	ip      netip.Addr
	dropped atomic.Int64
}

func (c *onlyFrom) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		k, from, err := c.PacketConn.ReadFrom(b)
		if err != nil {
			return k, from, err
		}
		if a, ok := from.(*net.UDPAddr); ok && a.AddrPort().Addr().Unmap() == c.ip {
			return k, from, nil
		}
		c.dropped.Add(1)
	}
}

// candidates are the answer's a=candidate lines of type typ for
// component 1 (pion repeats each for component 2, muxed anyway), as
// fields (foundation, component, transport, priority, address, port,
// "typ", type, then raddr/rport when present).
func candidates(sdp, typ string) [][]string {
	var out [][]string
	for _, l := range strings.Split(sdp, "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(l), "a=candidate:"))
		if strings.HasPrefix(strings.TrimSpace(l), "a=candidate:") && len(f) >= 8 && f[1] == "1" && f[7] == typ {
			out = append(out, f)
		}
	}
	return out
}

// withoutHost is sdp without its host candidates.
func withoutHost(sdp string) string {
	var keep []string
	for _, l := range strings.SplitAfter(sdp, "\n") {
		if !strings.Contains(l, " typ host") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "")
}

// TestSrflxCandidate: with webrtc.stun_servers the answer carries the
// server's server-reflexive candidate, the address the STUN server saw
// (here a simulated NAT's 127.0.0.2:P'), related to the socket that asked
// (raddr ICE address, rport its port), beside the host candidate; and a
// player given only that candidate (host candidates cut from the answer,
// every packet not from the NAT's outside address dropped) connects
// through the NAT's mapping and receives the stream.
func TestSrflxCandidate(t *testing.T) {
	nat := startNATSTUN(t)
	e := startEdge(t, nil, fvrtc.Options{Engine: fvrtc.EnginePion, STUNServers: []string{nat.url()}})
	pub, err := e.st.Hub.Publish("live/nat")
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()

	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	filtered := &onlyFrom{PacketConn: conn, ip: natOutside}
	mux := pionwebrtc.NewICEUDPMux(nil, filtered)
	t.Cleanup(func() { _ = mux.Close(); _ = conn.Close() })
	m := &pionwebrtc.MediaEngine{}
	if err := m.RegisterCodec(pionwebrtc.RTPCodecParameters{RTPCodecCapability: pionPCMU.cap, PayloadType: pionPCMU.pt}, pionwebrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	var s pionwebrtc.SettingEngine
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	s.SetIncludeLoopbackCandidate(true)
	s.SetNetworkTypes([]pionwebrtc.NetworkType{pionwebrtc.NetworkTypeUDP4})
	s.SetICEUDPMux(mux)
	pc, err := pionwebrtc.NewAPI(pionwebrtc.WithMediaEngine(m), pionwebrtc.WithSettingEngine(s)).NewPeerConnection(pionwebrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	p, tr := recvRTP(t, pc)

	ans, _ := offerAnswer(t, pc, e.url+"/live/nat/whep")
	insides := nat.insides()
	if len(insides) != 1 {
		t.Fatalf("%d server sockets asked the STUN server, want 1 (%v)", len(insides), insides)
	}
	inside, outside := insides[0], nat.mapped(insides[0])
	srflx, host := candidates(ans, "srflx"), candidates(ans, "host")
	t.Logf("STUN asked from %v, mapped to %v; answer: srflx %q, host %q", inside, outside, srflx, host)
	if len(host) != 1 || host[0][4] != "127.0.0.1" {
		t.Fatalf("host candidates %q, want one on 127.0.0.1", host)
	}
	want := []string{outside.Addr().String(), strconv.Itoa(int(outside.Port())), "typ", "srflx", "raddr", inside.Addr().String(), "rport", strconv.Itoa(int(inside.Port()))}
	if len(srflx) != 1 || len(srflx[0]) < 12 || strings.Join(srflx[0][4:12], " ") != strings.Join(want, " ") {
		t.Fatalf("srflx candidates %q, want one %q", srflx, want)
	}

	only := withoutHost(ans)
	if len(candidates(only, "host")) != 0 || len(candidates(only, "srflx")) != 1 {
		t.Fatalf("the answer without host candidates still has them:\n%s", only)
	}
	if err := pc.SetRemoteDescription(pionwebrtc.SessionDescription{Type: pionwebrtc.SDPTypeAnswer, SDP: only}); err != nil {
		t.Fatal(err)
	}
	publishFrames(t, pub, codec.PCMU, 8000, numbered, func() bool { return len(p.got()) >= 10 })
	pair, err := tr.Receiver().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil || pair.Remote.Address != outside.Addr().String() || pair.Remote.Port != outside.Port() {
		t.Fatalf("selected pair %v %v, want the remote %v (the srflx candidate)", pair, err, outside)
	}
	if nat.forwarded.Load() == 0 || filtered.dropped.Load() == 0 {
		t.Fatalf("NAT forwarded %d packets, the client dropped %d from elsewhere: want both > 0 (media through the mapping, the direct path refused)",
			nat.forwarded.Load(), filtered.dropped.Load())
	}
}

// silentSTUN is a STUN server that never answers; forge, when set, is
// sent each request's source and transaction ID.
type silentSTUN struct {
	conn     *net.UDPConn
	requests atomic.Int64
}

func startSilentSTUN(t *testing.T, forge func(from netip.AddrPort, id [stun.TransactionIDSize]byte)) *silentSTUN {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	s := &silentSTUN{conn: c}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			k, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			m := &stun.Message{Raw: append([]byte(nil), buf[:k]...)}
			if m.Decode() == nil && m.Type == stun.BindingRequest {
				s.requests.Add(1)
				if forge != nil {
					forge(from, m.TransactionID)
				}
			}
		}
	}()
	t.Cleanup(func() { _ = c.Close(); <-done })
	return s
}

func (s *silentSTUN) url() string { return "stun:" + s.conn.LocalAddr().String() }

// TestSrflxSTUNTimeout: a STUN server that never answers delays the
// answer by webrtc.stun_gather_timeout and no more; the answer still has
// its host candidate (and the srflx of a server that did answer), and is
// counted when it has no srflx at all. A Binding success forged from
// another address than the configured server's (with the request's
// transaction ID) is not taken: the server learns its address only from
// the servers configured.
func TestSrflxSTUNTimeout(t *testing.T) {
	const wait = 300 * time.Millisecond
	const slack = 700 * time.Millisecond // scheduling on a loaded machine
	forger, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer forger.Close()
	forged := netip.MustParseAddrPort("192.0.2.66:9")
	var forgedSent atomic.Int64
	dead := startSilentSTUN(t, func(from netip.AddrPort, id [stun.TransactionIDSize]byte) {
		resp := stun.MustBuild(stun.NewTransactionIDSetter(id), stun.BindingSuccess,
			&stun.XORMappedAddress{IP: forged.Addr().AsSlice(), Port: int(forged.Port())}, stun.Fingerprint)
		if _, err := forger.WriteToUDPAddrPort(resp.Raw, from); err == nil {
			forgedSent.Add(1)
		}
	})
	nat := startNATSTUN(t)

	for _, c := range []struct {
		name    string
		servers []string
		srflx   int
	}{
		{"dead", []string{dead.url()}, 0},
		{"dead and alive", []string{dead.url(), nat.url()}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := startEdge(t, nil, fvrtc.Options{Engine: fvrtc.EnginePion, STUNServers: c.servers, STUNGatherTimeout: wait})
			pc, err := codecAPI(t, pionPCMU).NewPeerConnection(pionwebrtc.Configuration{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = pc.Close() })
			if _, err := pc.AddTransceiverFromKind(pionwebrtc.RTPCodecTypeAudio, pionwebrtc.RTPTransceiverInit{Direction: pionwebrtc.RTPTransceiverDirectionRecvonly}); err != nil {
				t.Fatal(err)
			}
			before := dead.requests.Load()
			ans, took := offerAnswer(t, pc, e.url+"/live/slow/whep")
			t.Logf("answered in %v: %d host, %d srflx candidates", took, len(candidates(ans, "host")), len(candidates(ans, "srflx")))
			if took > wait+slack {
				t.Errorf("the answer took %v: a silent STUN server may delay it %v (+%v slack)", took, wait, slack)
			}
			if len(candidates(ans, "host")) != 1 || len(candidates(ans, "srflx")) != c.srflx {
				t.Errorf("%d host, %d srflx candidates; want 1 and %d:\n%s", len(candidates(ans, "host")), len(candidates(ans, "srflx")), c.srflx, ans)
			}
			if strings.Contains(ans, forged.Addr().String()) {
				t.Errorf("the forged mapped address %v is in the answer", forged)
			}
			testwait.For(t, 5*time.Second, "the silent server asked, the forged answer sent", func() bool {
				return dead.requests.Load() > before && forgedSent.Load() > 0
			})
			if got, want := e.srv.Stats.NoSrflx.Load(), uint64(1-c.srflx); got != want {
				t.Errorf("answers without srflx counted %d, want %d", got, want)
			}
		})
	}
}

// TestSTUNServersRefused: fvrtc.New takes only stun:HOST[:PORT] over UDP,
// at most fvrtc.MaxSTUNServers.
func TestSTUNServersRefused(t *testing.T) {
	for _, u := range [][]string{
		{"stuns:127.0.0.1:3478"}, {"turn:127.0.0.1:3478"}, {"stun:127.0.0.1:3478?transport=tcp"}, {"http://x"}, {"stun:127.0.0.1:0"},
		{"stun:a", "stun:b", "stun:c", "stun:d", "stun:e"},
	} {
		if s, err := fvrtc.New(fvrtc.Options{STUNServers: u}); err == nil {
			s.Close()
			t.Errorf("%q accepted", u)
		} else if errors.Is(err, fvrtc.ErrOpusUnavailable) {
			t.Fatal(err)
		}
	}
}
