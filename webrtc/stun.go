package webrtc

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/pion/stun/v4"
)

// stunServer answers STUN Binding requests (RFC 8489) on one UDP socket,
// so a browser behind NAT learns its server-reflexive address from the
// server it talks to, with no third-party STUN service. It answers
// nothing else: no TURN, no credentials, no other methods. One goroutine
// (serve) owns the socket's reads; close ends it.
type stunServer struct {
	conn  *net.UDPConn
	log   *slog.Logger
	limit stunLimit
	done  chan struct{}
	st    *Stats // STUNAnswered, STUNIgnored, STUNLimited
}

// listenSTUN opens the STUN socket on addr (host:port, UDP) and starts
// answering.
func listenSTUN(addr string, st *Stats, log *slog.Logger) (*stunServer, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("webrtc: stun address %q: %w", addr, err)
	}
	c, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, fmt.Errorf("webrtc: stun listen: %w", err)
	}
	s := &stunServer{conn: c, log: log, st: st, done: make(chan struct{})}
	go s.serve()
	return s, nil
}

// addr is the socket's address (the port chosen for ":0").
func (s *stunServer) addr() *net.UDPAddr { return s.conn.LocalAddr().(*net.UDPAddr) }

// close stops serve and waits for it.
func (s *stunServer) close() {
	_ = s.conn.Close()
	<-s.done
}

// stunMaxPacket bounds a request read: a Binding request is 20 bytes plus
// a few attributes; anything longer is not one.
const stunMaxPacket = 548

func (s *stunServer) serve() {
	defer close(s.done)
	buf := make([]byte, stunMaxPacket+1)
	for {
		n, from, err := s.conn.ReadFromUDP(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.log.Warn("stun read", "err", err)
			}
			return
		}
		if n > stunMaxPacket {
			s.st.STUNIgnored.Add(1)
			continue
		}
		resp, ok := stunAnswer(buf[:n], from)
		switch {
		case !ok:
			s.st.STUNIgnored.Add(1)
		case !s.limit.allow(from.IP, time.Now()):
			s.st.STUNLimited.Add(1)
		default:
			_ = s.conn.SetWriteDeadline(time.Now().Add(time.Second))
			if _, err := s.conn.WriteToUDP(resp, from); err == nil {
				s.st.STUNAnswered.Add(1)
			}
		}
	}
}

// stunAnswer is the Binding success response to req from from, ok false
// when req is not a well-formed Binding request (it gets no answer:
// silence tells a scanner nothing).
func stunAnswer(req []byte, from *net.UDPAddr) ([]byte, bool) {
	if !stun.IsMessage(req) {
		return nil, false
	}
	m := &stun.Message{Raw: append([]byte(nil), req...)}
	if err := m.Decode(); err != nil || m.Type != stun.BindingRequest {
		return nil, false
	}
	resp, err := stun.Build(stun.NewTransactionIDSetter(m.TransactionID), stun.BindingSuccess,
		&stun.XORMappedAddress{IP: from.IP, Port: from.Port}, stun.Fingerprint)
	if err != nil {
		return nil, false
	}
	return resp.Raw, true
}

// stunLimit bounds answers per source address and in total, per one-second
// window: a STUN answer is about twice a minimal request, so a spoofed
// source could use the server to reflect traffic at a victim; the bounds
// make that worthless. The map is bounded too (new addresses beyond it
// wait for the next window).
type stunLimit struct {
	mu     sync.Mutex
	window time.Time
	total  int
	per    map[string]int
}

const (
	stunPerIP    = 20   // answers per address per second (ICE sends a few)
	stunTotal    = 5000 // answers per second in all
	stunMaxAddrs = 10000
)

func (l *stunLimit) allow(ip net.IP, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.window) >= time.Second || l.per == nil {
		l.window, l.total, l.per = now, 0, map[string]int{}
	}
	k := string(ip.To16())
	n, seen := l.per[k]
	if l.total >= stunTotal || n >= stunPerIP || (!seen && len(l.per) >= stunMaxAddrs) {
		return false
	}
	l.per[k] = n + 1
	l.total++
	return true
}
