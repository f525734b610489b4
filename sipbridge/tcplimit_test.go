package sipbridge

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/internal/tlscert"
)

// halfInvite is the start of a request that never ends (no blank line).
const halfInvite = "INVITE sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK-half\r\nFrom: <sip:x@127.0.0.1>;tag=1\r\n"

// TestSIPTCPLimits (2 000 half-sent SIP/TCP requests were
// still open after 45 s): 100 connections from one address each send
// half a request. 64 (sip.max_connections_per_ip) are accepted, the 36
// others are closed at once; the accepted ones are closed once idle for
// sip.tcp_idle_timeout (1 s here), not before. Then a whole REGISTER on
// a new connection is answered (401): the listener serves on.
func TestSIPTCPLimits(t *testing.T) {
	const idle = time.Second
	e := startEnv(t, func(o *Options) { o.TCPIdleTimeout, o.MaxConnsPerIP = idle, 64 })
	var conns []net.Conn
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	start := time.Now()
	for range 100 {
		c, err := net.Dial("tcp", e.bridge.Addr())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write([]byte(halfInvite)); err != nil && !errors.Is(err, net.ErrClosed) {
			t.Logf("write: %v", err) // a refused connection may be reset already
		}
		conns = append(conns, c)
	}
	st := &e.bridge.Stats.Conns
	testwait.For(t, 5*time.Second, "36 connections refused", func() bool { return st.Refused.Load() == 36 })
	if n := st.Open.Load(); n != 64 {
		t.Errorf("%d connections open, want 64", n)
	}
	closed := make(chan time.Duration, len(conns))
	for _, c := range conns {
		go func() {
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, err := io.ReadAll(c) // until the server closes it
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				closed <- -1
				return
			}
			closed <- time.Since(start)
		}()
	}
	var early, late int
	for range conns {
		d := <-closed
		switch {
		case d < 0:
			late++
		case d < idle-100*time.Millisecond:
			early++
		}
	}
	t.Logf("open %d, refused %d, closed idle %d; all closed within %v", st.Open.Load(), st.Refused.Load(), st.Idle.Load(), time.Since(start).Round(time.Millisecond))
	if late > 0 {
		t.Errorf("%d connections still open after 10 s", late)
	}
	if early != 36 {
		t.Errorf("%d connections closed before the idle timeout, want the 36 refused", early)
	}
	testwait.For(t, 5*time.Second, "no connection open", func() bool { return st.Open.Load() == 0 })

	c, err := net.Dial("tcp", e.bridge.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	local := c.LocalAddr().String()
	reg := "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP " + local + ";branch=z9hG4bK-reg1\r\n" +
		"From: <sip:carol@127.0.0.1>;tag=7\r\nTo: <sip:carol@127.0.0.1>\r\nCall-ID: tcp-limit-1\r\nCSeq: 1 REGISTER\r\n" +
		"Contact: <sip:carol@" + local + ";transport=tcp>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	if _, err := c.Write([]byte(reg)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "SIP/2.0 401") {
		t.Fatalf("REGISTER over TCP after the flood: %q %v", line, err)
	}
}

// TestSIPTLSLimits: on the TLS listener, connections that never finish
// the TLS handshake count against the per-address limit and are closed
// after the idle timeout; a real TLS client then completes a handshake.
func TestSIPTLSLimits(t *testing.T) {
	p := newTLSPeers(t)
	certs, err := tlscert.NewReloader(p.cert, p.key)
	if err != nil {
		t.Fatal(err)
	}
	e := startEnv(t, func(o *Options) {
		o.TLSListen, o.TLSConfig = "127.0.0.1:0", certs.Config()
		o.TCPIdleTimeout, o.MaxConnsPerIP = time.Second, 3
	})
	st := &e.bridge.Stats.Conns
	var conns []net.Conn
	for range 5 {
		c, err := net.Dial("tcp", e.bridge.TLSAddr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, _ = c.Write([]byte{0x16, 0x03, 0x01}) // half a ClientHello record header
		conns = append(conns, c)
	}
	testwait.For(t, 5*time.Second, "2 refused", func() bool { return st.Refused.Load() == 2 })
	testwait.For(t, 5*time.Second, "the half handshakes closed", func() bool { return st.Open.Load() == 0 })
	if st.Idle.Load() < 3 {
		t.Errorf("closed idle %d, want 3", st.Idle.Load())
	}
	c, err := tls.Dial("tcp", e.bridge.TLSAddr(), &tls.Config{RootCAs: p.pool, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("TLS handshake after the flood: %v", err)
	}
	c.Close()
}
