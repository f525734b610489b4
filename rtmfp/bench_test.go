package rtmfp

import (
	"bytes"
	"context"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/flashvox/flashvox/rtmfp/wire"
)

// BenchmarkRespondKeying is the responder's work per handshake once the
// cookie is back: certificate, negotiation, one DH key pair (group 2) and
// the shared secret, key derivation.
func BenchmarkRespondKeying(b *testing.B) {
	srv := wire.NewIdentity(bytes.Repeat([]byte{1}, 64), true)
	rc, _ := wire.ParsePeerCert(srv.Cert)
	ik, err := wire.NewInitiatorKeying(rc, wire.Policy{})
	if err != nil {
		b.Fatal(err)
	}
	cert := wire.NewIdentity(bytes.Repeat([]byte{2}, 64), false).Cert
	b.ReportAllocs()
	for b.Loop() {
		ic, err := wire.ParsePeerCert(cert)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := wire.RespondKeying(ik.SKIC, ic, wire.Policy{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHello is the responder's work per IHello: parse, EPD check,
// cookie, RHello sealed with the default key.
func BenchmarkHello(b *testing.B) {
	s := &Server{Handler: HandlerFunc(func(context.Context, *Conn) {})}
	s.init()
	ih := (&wire.IHello{EPD: wire.AppendOption(nil, wire.EPDAncillary, []byte("rtmfp://x/live")), Tag: make([]byte, 16)}).AppendTo(nil)
	addr := netip.MustParseAddrPort("127.0.0.1:5")
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		var h wire.IHello
		var e wire.EPD
		if h.Unmarshal(ih) != nil || e.Unmarshal(h.EPD) != nil || !s.id.Selects(&e) {
			b.Fatal("bad hello")
		}
		r := wire.RHello{Tag: h.Tag, Cookie: s.cookies.Make(now, addr), Cert: s.id.Cert}
		p := wire.AppendChunk(wire.AppendHeader(nil, wire.Header{Flags: wire.ModeStartup}), wire.ChunkRHello, r.AppendTo(nil))
		_ = s.hs.Seal(nil, 0, p)
	}
}

// TestIdleSessionMemory reports the heap held by open, idle server sessions
// with a reader blocked on each Conn (the command layer's state excluded).
func TestIdleSessionMemory(t *testing.T) {
	s := &Server{Handler: HandlerFunc(func(context.Context, *Conn) {})}
	s.init()
	rc, _ := wire.ParsePeerCert(s.id.Cert)
	ik, _ := wire.NewInitiatorKeying(rc, wire.Policy{})
	ic, _ := wire.ParsePeerCert(wire.NewIdentity(bytes.Repeat([]byte{2}, 64), false).Cert)
	_, keys, err := wire.RespondKeying(ik.SKIC, ic, wire.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 1000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	done := make(chan struct{})
	for i := range n {
		k := keys
		k.Crypto = wire.NewPacketCrypto(make([]byte, 16), make([]byte, 16))
		ss := s.register(netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), uint16(i+1)), uint32(i+1), k, time.Now(), func(*session) {})
		go func() {
			select {
			case <-ss.conn.done:
			case <-done:
			}
		}()
	}
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	close(done)
	runtime.KeepAlive(s)
	per := (int64(after.HeapInuse) - int64(before.HeapInuse) + int64(after.StackInuse) - int64(before.StackInuse)) / n
	t.Logf("%d bytes per idle session (heap %d, stack %d in total)", per, int64(after.HeapInuse)-int64(before.HeapInuse), int64(after.StackInuse)-int64(before.StackInuse))
	if per > 64<<10 {
		t.Errorf("%d bytes per idle session, want ≤ 64 KiB", per)
	}
}
