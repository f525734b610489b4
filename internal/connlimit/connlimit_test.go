package connlimit

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testwait"
)

// TestListen: the third connection from one address is closed at accept;
// one that sends half a line and then nothing is closed after the idle
// timeout; closing one frees its place.
func TestListen(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var st Stats
	ln := Listen(raw, Options{PerIP: 2, IdleTimeout: 300 * time.Millisecond, Stats: &st})
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(io.Discard, c) // until the idle deadline
			}()
		}
	}()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	a, b := dial(), dial()
	testwait.For(t, 2*time.Second, "two open", func() bool { return st.Open.Load() == 2 })
	c := dial()
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("third connection: %v, want EOF at once", err)
	}
	if st.Refused.Load() != 1 {
		t.Errorf("refused %d", st.Refused.Load())
	}
	_, _ = a.Write([]byte("INVITE sip:x SIP/2.0\r\n"))
	start := time.Now()
	_ = a.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := a.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("half-sent connection: %v, want EOF", err)
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Errorf("closed after %v, before the idle timeout", d)
	}
	b.Close()
	testwait.For(t, 2*time.Second, "places freed", func() bool { return st.Open.Load() == 0 && st.Idle.Load() >= 1 })
}
