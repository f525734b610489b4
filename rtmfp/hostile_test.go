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
	"github.com/flashvox/flashvox/rtmfp/wire"
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
	hs := wire.NewDefaultCrypto()
	for i := range 2000 {
		var d []byte
		switch i % 4 {
		case 0: // random bytes
			d = make([]byte, rng.IntN(1500))
			for j := range d {
				d[j] = byte(rng.Uint32())
			}
		case 1: // a startup packet with a truncated chunk
			d = hs.Seal(nil, 0, []byte{wire.ModeStartup, wire.ChunkIHello, 0x40, 0x00, 1, 2})
		case 2: // an IIKeying with a bogus cookie
			k := wire.IIKeying{SessionID: 1, Cookie: bytes.Repeat([]byte{1}, 65), Cert: []byte{1, 0x0a}, SKIC: []byte{0}}
			d = hs.Seal(nil, 0, (&wire.Packet{Header: wire.Header{Flags: wire.ModeStartup}, Chunks: []wire.Chunk{{Type: wire.ChunkIIKeying, Value: k.AppendTo(nil)}}}).AppendTo(nil))
		case 3: // a session ID nobody has
			d = hs.Seal(nil, uint32(rng.Uint32()|1), []byte{wire.ModeInitiator, wire.ChunkPing, 0, 0})
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
func hello(t testing.TB, c *net.UDPConn, hs *wire.PacketCrypto) []byte {
	t.Helper()
	tag := []byte("0123456789abcdef")
	ih := wire.IHello{EPD: wire.AppendOption(nil, wire.EPDAncillary, []byte("rtmfp://x/live")), Tag: tag}
	d := hs.Seal(nil, 0, (&wire.Packet{Header: wire.Header{Flags: wire.ModeStartup}, Chunks: []wire.Chunk{{Type: wire.ChunkIHello, Value: ih.AppendTo(nil)}}}).AppendTo(nil))
	buf := make([]byte, wire.MaxDatagram)
	for range 20 {
		_, _ = c.Write(d)
		_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		n, err := c.Read(buf)
		if err != nil {
			continue
		}
		plain, err := wire.NewDefaultCrypto().Open(nil, buf[4:n])
		if err != nil {
			t.Fatal(err)
		}
		var p wire.Packet
		if err := p.Unmarshal(plain); err != nil || len(p.Chunks) == 0 || p.Chunks[0].Type != wire.ChunkRHello {
			t.Fatalf("reply %+v %v", p, err)
		}
		var rh wire.RHello
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
	hs := wire.NewDefaultCrypto()
	ih := wire.IHello{EPD: wire.AppendOption(nil, wire.EPDAncillary, []byte("rtmfp://x/live")), Tag: make([]byte, 16)}
	d := hs.Seal(nil, 0, (&wire.Packet{Header: wire.Header{Flags: wire.ModeStartup}, Chunks: []wire.Chunk{{Type: wire.ChunkIHello, Value: ih.AppendTo(nil)}}}).AppendTo(nil))
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

// packetSeeds and userDataSeeds seed FuzzServerDatagram: copies of the
// wire package's test tables, which a test here cannot import.
var packetSeeds = []wire.Packet{
	{Header: wire.Header{Flags: wire.ModeStartup}, Chunks: []wire.Chunk{{Type: wire.ChunkIHello, Value: []byte{1, 2, 3}}}},
	{Header: wire.Header{Flags: wire.ModeResponder | wire.FlagTimestamp, Timestamp: 0x1234}, Chunks: []wire.Chunk{{Type: wire.ChunkPing, Value: []byte{}}}},
	{Header: wire.Header{Flags: wire.ModeInitiator | wire.FlagTimestamp | wire.FlagTimestampEcho, Timestamp: 1, TimestampEcho: 0xfffe},
		Chunks: []wire.Chunk{{Type: wire.ChunkUserData, Value: []byte{0, 1, 1, 0, 8}}, {Type: wire.ChunkAckRanges, Value: []byte{1, 64, 3}}}},
	{Header: wire.Header{Flags: wire.ModeInitiator | wire.FlagTimeCritical}, Chunks: []wire.Chunk{}},
}

var userDataSeeds = []wire.UserData{
	{Flags: wire.FragWhole, FlowID: 1, Seq: 1, FSNOffset: 1, Data: []byte("hello")},
	{Flags: wire.FragBegin | wire.DataOptions, FlowID: 2, Seq: 1, FSNOffset: 1, Metadata: []byte("TC\x04\x00") /* TC metadata, stream 0 */, Data: []byte{1, 2, 3}},
	{Flags: wire.FragEnd | wire.DataOptions, FlowID: 300, Seq: 70000, FSNOffset: 3, Metadata: []byte("TC\x04\x05") /* stream 5 */, ReturnFlow: 7, HasReturnFlow: true, Data: []byte{}},
	{Flags: wire.DataFinal | wire.DataAbandon, FlowID: 9, Seq: 4, FSNOffset: 0, Data: []byte{}},
}

// FuzzServerDatagram feeds one datagram to a server's dispatch, and the
// same plaintext to an open session: nothing panics or stalls.
func FuzzServerDatagram(f *testing.F) {
	c := wire.NewDefaultCrypto()
	for _, p := range packetSeeds {
		f.Add(c.Seal(nil, 0, p.AppendTo(nil)))
		f.Add(p.AppendTo(nil))
	}
	for _, u := range userDataSeeds {
		f.Add((&wire.Packet{Header: wire.Header{Flags: wire.ModeInitiator}, Chunks: []wire.Chunk{{Type: wire.ChunkUserData, Value: u.AppendTo(nil, false)}, {Type: wire.ChunkNextUserData, Value: u.AppendTo(nil, true)}}}).AppendTo(nil))
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
		var p wire.Packet
		if p.Unmarshal(d) == nil {
			p.Flags = p.Flags&^wire.ModeMask | wire.ModeResponder
			a.mu.Lock()
			a.onPacket(&p, a.addr, time.Unix(1e6, 0))
			a.mu.Unlock()
		}
	})
}
