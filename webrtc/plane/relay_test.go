package plane

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// relay is a man in the middle on 127.0.0.1 between a dialling plane
// and an answering one: the dialler checks front, the answerer sees back
// as its peer's (validated) address. It records the SRTP the dialler
// sends and, while hold is set, keeps it instead of forwarding it: the
// tests get real encrypted packets to replay or spoof.
type relay struct {
	front, back *net.UDPConn
	target      netip.AddrPort // the answering plane
	hold        atomic.Bool

	mu     sync.Mutex
	peer   netip.AddrPort // the dialler, as front saw it
	passed [][]byte       // SRTP forwarded (the first maxRecorded)
	held   [][]byte       // SRTP kept back while holding

	wg sync.WaitGroup
}

const maxRecorded = 64

func newRelay(t *testing.T, target netip.AddrPort) *relay {
	t.Helper()
	r := &relay{target: target, front: udpT(t), back: udpT(t)}
	r.wg.Add(2)
	go r.forward()
	go r.backward()
	t.Cleanup(func() {
		_ = r.front.Close()
		_ = r.back.Close()
		r.wg.Wait()
	})
	return r
}

// udpT is a UDP socket on 127.0.0.1 closed at the test's end.
func udpT(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func addrOf(c *net.UDPConn) netip.AddrPort { return c.LocalAddr().(*net.UDPAddr).AddrPort() }

func (r *relay) forward() {
	defer r.wg.Done()
	buf := make([]byte, 2048)
	for {
		n, from, err := r.front.ReadFromUDPAddrPort(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		b := append([]byte(nil), buf[:n]...)
		r.mu.Lock()
		r.peer = from
		srtp := isSRTP(b)
		if srtp && r.hold.Load() {
			if len(r.held) < maxRecorded {
				r.held = append(r.held, b)
			}
			r.mu.Unlock()
			continue
		}
		if srtp && len(r.passed) < maxRecorded {
			r.passed = append(r.passed, b)
		}
		r.mu.Unlock()
		_, _ = r.back.WriteToUDPAddrPort(b, r.target)
	}
}

func (r *relay) backward() {
	defer r.wg.Done()
	buf := make([]byte, 2048)
	for {
		n, _, err := r.back.ReadFromUDPAddrPort(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		r.mu.Lock()
		peer := r.peer
		r.mu.Unlock()
		_, _ = r.front.WriteToUDPAddrPort(buf[:n], peer)
	}
}

// recorded is a copy of the SRTP forwarded (held false) or kept.
func (r *relay) recorded(held bool) [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	if held {
		return append([][]byte(nil), r.held...)
	}
	return append([][]byte(nil), r.passed...)
}

// isSRTP says whether b is an SRTP (not SRTCP) packet by its first bytes.
func isSRTP(b []byte) bool {
	return len(b) >= 12 && b[0] >= 128 && b[0] <= 191 && !(b[1]&0x7f >= 64 && b[1]&0x7f <= 95)
}

// relayPair connects a dialling session on a to an answering one on b
// through r: b's session validates r.back's address.
func relayPair(t *testing.T, a, b *Plane, r *relay, gotA, gotB *atomic.Int64) (*Session, *Session) {
	t.Helper()
	da, err := a.NewSession(true, func(*rtp.Packet) { gotA.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	sb, ans := answer(t, b, WriteOffer(da.Local(), a.Fingerprint(), "sendrecv", pcmu, 77), "sendrecv", gotB)
	d, err := ParseSDP(ans)
	if err != nil {
		t.Fatal(err)
	}
	if err := da.Start(d.Remote, []netip.AddrPort{addrOf(r.front)}); err != nil {
		t.Fatal(err)
	}
	waitConnected(t, da, sb)
	return da, sb
}

func waitConnected(t *testing.T, ss ...*Session) {
	t.Helper()
	for _, s := range ss {
		select {
		case <-s.Connected():
		case <-time.After(5 * time.Second):
			t.Fatalf("not connected: %v", s.Err())
		}
	}
}

// isDone says whether s has ended.
func isDone(s *Session) bool {
	select {
	case <-s.Done():
		return true
	default:
		return false
	}
}
