package rtmfp_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/rtmfp"
	"github.com/flashvox/flashvox/rtmfp/wire"
	"github.com/flashvox/flashvox/rtmp/message"
)

// connect sends NetConnection.connect on c and waits for the answer.
func connect(t *testing.T, c *rtmfp.Conn, tcURL string) *message.Command {
	t.Helper()
	cmd := &message.Command{Name: "connect", TxID: 1, Object: amf.NewObject("app", "live", "tcUrl", tcURL, "objectEncoding", 0.0)}
	m, err := cmd.MarshalMessage(0)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WriteMessage(m); err != nil {
		t.Fatal(err)
	}
	return waitCommand(t, c, "_result", "_error")
}

// waitCommand reads until a command named one of names arrives.
func waitCommand(t *testing.T, c *rtmfp.Conn, names ...string) *message.Command {
	t.Helper()
	got := make(chan *message.Command, 1)
	go func() {
		for {
			m, err := c.ReadMessage()
			if err != nil {
				close(got)
				return
			}
			if m.Type != message.TypeCommandAMF0 {
				continue
			}
			cmd, err := message.ParseCommand(m)
			if err != nil {
				continue
			}
			for _, n := range names {
				if cmd.Name == n {
					got <- cmd
					return
				}
			}
		}
	}()
	select {
	case cmd, ok := <-got:
		if !ok {
			t.Fatalf("connection closed before %v", names)
		}
		return cmd
	case <-time.After(5 * time.Second):
		t.Fatalf("no %v within 5 s", names)
	}
	return nil
}

// TestDialOwnServer: our initiator against our server, with the server
// requiring HMAC and sequence numbers and without, DH group 2 (our
// initiator's first choice).
func TestDialOwnServer(t *testing.T) {
	for _, pol := range []wire.Policy{{}, {RequireHMAC: true, RequireSeq: true}} {
		st := startStack(t, rtmfp.Config{Policy: pol})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := rtmfp.Dial(ctx, "rtmfp://"+st.RTMFPAddr+"/live", rtmfp.DialOptions{})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		res := connect(t, c, "rtmfp://"+st.RTMFPAddr+"/live")
		if res.Name != "_result" {
			t.Fatalf("connect: %+v", res)
		}
		fp := st.RTMFP.Fingerprint()
		if c.PeerID() != hexOf(fp[:]) {
			t.Errorf("server fingerprint %s, want %x", c.PeerID(), fp)
		}
		_ = c.Close()
		// The server's session reads EOF (the Close reached it); it then
		// lingers a few seconds to answer a repeated Close.
		testwait.For(t, 10*time.Second, "the server's session to end after Close", func() bool {
			return strings.Contains(st.Logs(), "transport=rtmfp app=live err=EOF")
		})
	}
}

// TestNewEndpointAtAClosedSessionsAddress: a client that closed and a new
// one with another certificate on the same UDP port (a restarted client, a
// NAT reusing a port) must get a session at once.
func TestNewEndpointAtAClosedSessionsAddress(t *testing.T) {
	st := startStack(t, rtmfp.Config{})
	url := "rtmfp://" + st.RTMFPAddr + "/live"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	first, err := rtmfp.Dial(ctx, url, rtmfp.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	local := first.LocalAddr().(*net.UDPAddr)
	_ = first.Close()
	var second *rtmfp.Conn
	var took time.Duration
	for {
		start := time.Now()
		second, err = rtmfp.Dial(ctx, url, rtmfp.DialOptions{LocalAddr: local})
		took = time.Since(start)
		if err == nil || !strings.Contains(err.Error(), "address already in use") || ctx.Err() != nil {
			break
		}
		time.Sleep(20 * time.Millisecond) // the first client's socket is still closing
	}
	if err != nil {
		t.Fatalf("a new certificate at %s was not accepted: %v", local, err)
	}
	defer second.Close()
	if took > 900*time.Millisecond {
		t.Fatalf("the handshake took %s: the first attempt was refused", took)
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, x := range b {
		out = append(out, digits[x>>4], digits[x&15])
	}
	return string(out)
}
