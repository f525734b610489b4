package rtmfp

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testwait"
)

// startServer runs a Server whose sessions just read until closed.
func startServer(t testing.TB, cfg Config) (*Server, *net.UDPConn) {
	t.Helper()
	srv := &Server{Config: cfg, Handler: HandlerFunc(func(ctx context.Context, c *Conn) {
		for {
			if _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	})}
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ctx, pc)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return srv, pc
}

// TestServerDropsGarbage: random datagrams of every size, forged session
// IDs and truncated handshakes are dropped and counted; the server keeps
// answering hellos.
func TestServerDropsGarbage(t *testing.T) {
	srv, pc := startServer(t, Config{})
	c, err := net.DialUDP("udp", nil, pc.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	hs := newDefaultCrypto()
	for i := range 2000 {
		var d []byte
		switch i % 4 {
		case 0: // random bytes
			d = make([]byte, rng.IntN(1500))
			for j := range d {
				d[j] = byte(rng.Uint32())
			}
		case 1: // a startup packet with a truncated chunk
			d = hs.seal(nil, 0, []byte{modeStartup, chunkIHello, 0x40, 0x00, 1, 2})
		case 2: // an IIKeying with a bogus cookie
			k := IIKeying{SessionID: 1, Cookie: bytes.Repeat([]byte{1}, 65), Cert: []byte{1, 0x0a}, SKIC: []byte{0}}
			d = hs.seal(nil, 0, (&Packet{Header: Header{Flags: modeStartup}, Chunks: []Chunk{{chunkIIKeying, k.AppendTo(nil)}}}).AppendTo(nil))
		case 3: // a session ID nobody has
			d = hs.seal(nil, uint32(rng.Uint32()|1), []byte{modeInitiator, chunkPing, 0, 0})
		}
		_, _ = c.Write(d)
		// In batches of 100, so that a loaded machine's socket buffer does
		// not drop most of a burst before the server reads it.
		if n := uint64(i + 1); n%100 == 0 {
			testwait.For(t, 5*time.Second, fmt.Sprintf("%d of %d datagrams refused", n/2, n), func() bool {
				return srv.Stats().Malformed.Load()+srv.Stats().HandshakesRefused.Load() >= n/2
			})
		}
	}
	if tag := hello(t, c, hs); len(tag) == 0 {
		t.Fatal("no RHello after the garbage")
	}
}

// hello sends an IHello and returns the RHello's tag.
func hello(t testing.TB, c *net.UDPConn, hs *packetCrypto) []byte {
	t.Helper()
	tag := []byte("0123456789abcdef")
	ih := IHello{EPD: appendOption(nil, epdAncillary, []byte("rtmfp://x/live")), Tag: tag}
	d := hs.seal(nil, 0, (&Packet{Header: Header{Flags: modeStartup}, Chunks: []Chunk{{chunkIHello, ih.AppendTo(nil)}}}).AppendTo(nil))
	buf := make([]byte, maxDatagram)
	for range 20 {
		_, _ = c.Write(d)
		_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		n, err := c.Read(buf)
		if err != nil {
			continue
		}
		plain, err := newDefaultCrypto().open(nil, buf[4:n])
		if err != nil {
			t.Fatal(err)
		}
		var p Packet
		if err := p.Unmarshal(plain); err != nil || len(p.Chunks) == 0 || p.Chunks[0].Type != chunkRHello {
			t.Fatalf("reply %+v %v", p, err)
		}
		var rh RHello
		if err := rh.Unmarshal(p.Chunks[0].Value); err != nil {
			t.Fatal(err)
		}
		return rh.Tag
	}
	return nil
}

// TestIHelloFlood: 20 000 forged IHellos from one address cost no state
// and little memory; the rate limiter refuses most; another address is
// still answered at once.
func TestIHelloFlood(t *testing.T) {
	srv, pc := startServer(t, Config{})
	c, err := net.DialUDP("udp", nil, pc.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	hs := newDefaultCrypto()
	ih := IHello{EPD: appendOption(nil, epdAncillary, []byte("rtmfp://x/live")), Tag: make([]byte, 16)}
	d := hs.seal(nil, 0, (&Packet{Header: Header{Flags: modeStartup}, Chunks: []Chunk{{chunkIHello, ih.AppendTo(nil)}}}).AppendTo(nil))
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range 20000 {
		_, _ = c.Write(d)
	}
	// The kernel may drop part of the burst; wait until the server has
	// taken what arrived (the count stops moving), with the limiter engaged.
	last := uint64(0)
	testwait.For(t, 5*time.Second, "the refused-handshake count to settle", func() bool {
		n := srv.Stats().HandshakesRefused.Load()
		if n > 0 && n == last {
			return true
		}
		last = n
		time.Sleep(100 * time.Millisecond)
		return false
	})
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grow := int64(after.HeapAlloc) - int64(before.HeapAlloc); grow > 8<<20 {
		t.Errorf("heap grew %d bytes", grow)
	}
	srv.mu.Lock()
	n := len(srv.sessions)
	srv.mu.Unlock()
	if n != 0 {
		t.Errorf("%d sessions from hellos alone", n)
	}
	other, err := net.DialUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)}, pc.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if tag := hello(t, other, hs); len(tag) == 0 {
		t.Fatal("another address got no RHello during the flood")
	}
}

// FuzzServerDatagram feeds one datagram to a server's dispatch, and the
// same plaintext to an open session: nothing panics or stalls.
func FuzzServerDatagram(f *testing.F) {
	c := newDefaultCrypto()
	for _, p := range packetCases {
		f.Add(c.seal(nil, 0, p.AppendTo(nil)))
		f.Add(p.AppendTo(nil))
	}
	for _, u := range userDataCases {
		f.Add((&Packet{Header: Header{Flags: modeInitiator}, Chunks: []Chunk{{chunkUserData, u.AppendTo(nil, false)}, {chunkNextUserData, u.AppendTo(nil, true)}}}).AppendTo(nil))
	}
	srv := &Server{Handler: HandlerFunc(func(context.Context, *Conn) {})}
	srv.init()
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		f.Fatal(err)
	}
	defer pc.Close()
	srv.pc = pc
	addr := netip.MustParseAddrPort("127.0.0.1:9")
	f.Fuzz(func(t *testing.T, d []byte) {
		srv.datagram(d, addr, time.Now())
		_, a, _ := pair(t, 0, 0, 1)
		var p Packet
		if p.Unmarshal(d) == nil {
			p.Flags = p.Flags&^modeMask | modeResponder
			a.mu.Lock()
			a.onPacket(&p, a.addr, time.Unix(1e6, 0))
			a.mu.Unlock()
		}
	})
}
