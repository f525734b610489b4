package webrtc

import (
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/pion/stun/v4"

	"github.com/flashvox/flashvox/internal/test/testwait"
)

// stunClient is a UDP socket on 127.0.0.1 that talks to srv.
func stunClient(t *testing.T, srv *stunServer) *net.UDPConn {
	t.Helper()
	c, err := net.DialUDP("udp", nil, srv.addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func startSTUN(t *testing.T) (*stunServer, *Stats) {
	t.Helper()
	st := &Stats{}
	srv, err := listenSTUN("127.0.0.1:0", st, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.close)
	return srv, st
}

// TestSTUNBinding: a pion-built Binding request gets a success response
// with its transaction ID and the client's own address, XOR-mapped.
func TestSTUNBinding(t *testing.T) {
	srv, st := startSTUN(t)
	c := stunClient(t, srv)
	req := stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.Fingerprint)
	if _, err := c.Write(req.Raw); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1500)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	resp := &stun.Message{Raw: buf[:n]}
	if err := resp.Decode(); err != nil {
		t.Fatal(err)
	}
	var xa stun.XORMappedAddress
	if err := xa.GetFrom(resp); err != nil {
		t.Fatal(err)
	}
	me := c.LocalAddr().(*net.UDPAddr)
	if resp.Type != stun.BindingSuccess || resp.TransactionID != req.TransactionID || !xa.IP.Equal(me.IP) || xa.Port != me.Port {
		t.Fatalf("%v %x %v, want binding success %x %v", resp.Type, resp.TransactionID, xa, req.TransactionID, me)
	}
	if err := stun.Fingerprint.Check(resp); err != nil {
		t.Fatalf("fingerprint: %v", err)
	}
	testwait.For(t, 5*time.Second, "the answer counted", func() bool { return st.STUNAnswered.Load() == 1 })
}

// TestSTUNHostile: garbage, a response posing as a request, another
// method and an oversized packet get no answer (counted ignored); a flood
// from one address is answered only up to the per-address bound.
func TestSTUNHostile(t *testing.T) {
	srv, st := startSTUN(t)
	c := stunClient(t, srv)
	big := stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.NewSoftware(string(make([]byte, 700))))
	for _, b := range [][]byte{
		[]byte("hello, not stun at all"),
		stun.MustBuild(stun.TransactionID, stun.BindingSuccess).Raw,
		stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodAllocate, stun.ClassRequest)).Raw,
		big.Raw,
	} {
		if _, err := c.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	testwait.For(t, 5*time.Second, "4 packets ignored", func() bool { return st.STUNIgnored.Load() == 4 })
	start := time.Now()
	for range 3 * stunPerIP {
		if _, err := c.Write(stun.MustBuild(stun.TransactionID, stun.BindingRequest).Raw); err != nil {
			t.Fatal(err)
		}
	}
	testwait.For(t, 5*time.Second, "the flood handled", func() bool { return st.STUNAnswered.Load()+st.STUNLimited.Load() == 3*stunPerIP })
	// At most stunPerIP answers per one-second window the flood spanned.
	windows := uint64(time.Since(start)/time.Second) + 2
	if a := st.STUNAnswered.Load(); a < 1 || a > min(windows*stunPerIP, 3*stunPerIP) {
		t.Fatalf("%d answers to a flood of %d over %d windows", a, 3*stunPerIP, windows)
	}
}

func TestSTUNLimit(t *testing.T) {
	var l stunLimit
	now := time.Unix(100, 0)
	a, b := net.IPv4(10, 0, 0, 1), net.IPv4(10, 0, 0, 2)
	for i := range stunPerIP {
		if !l.allow(a, now) {
			t.Fatalf("answer %d refused", i)
		}
	}
	if l.allow(a, now) {
		t.Fatal("answer beyond the per-address bound")
	}
	if !l.allow(b, now) {
		t.Fatal("another address refused")
	}
	if !l.allow(a, now.Add(time.Second)) {
		t.Fatal("refused in the next window")
	}
}

// FuzzSTUNAnswer: no packet panics; an answer is a Binding success with
// the request's transaction ID.
func FuzzSTUNAnswer(f *testing.F) {
	f.Add(stun.MustBuild(stun.TransactionID, stun.BindingRequest).Raw)
	f.Add(stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.Fingerprint).Raw)
	f.Add(stun.MustBuild(stun.TransactionID, stun.BindingSuccess).Raw)
	f.Add([]byte("hello"))
	from := &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 5000}
	f.Fuzz(func(t *testing.T, b []byte) {
		resp, ok := stunAnswer(b, from)
		if !ok {
			return
		}
		m := &stun.Message{Raw: resp}
		if err := m.Decode(); err != nil || m.Type != stun.BindingSuccess || string(m.TransactionID[:]) != string(b[8:20]) {
			t.Fatalf("answer %x to %x: %v", resp, b, err)
		}
	})
}
