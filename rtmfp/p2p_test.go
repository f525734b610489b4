package rtmfp_test

import (
	"context"
	"encoding/binary"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/rtmfp"
	"github.com/flashvox/flashvox/rtmfp/wire"
	"github.com/flashvox/flashvox/rtmp/message"
)

// echoPeer serves peers' sessions: every command comes back as "echo".
var echoPeer = rtmfp.HandlerFunc(func(ctx context.Context, c *rtmfp.Conn) {
	for {
		m, err := c.ReadMessage()
		if err != nil {
			return
		}
		if cmd, err := message.ParseCommand(m); err == nil {
			out, _ := (&message.Command{Name: "echo", Args: []any{cmd.Name}}).MarshalMessage(0)
			_ = c.WriteMessage(out)
		}
	}
})

// reachable connects c and sends setPeerInfo, waiting for the server's
// Set Keepalive answer: from then on the server introduces c by peer ID.
func reachable(t *testing.T, c *rtmfp.Conn, addr string) {
	t.Helper()
	if res := connect(t, c, "rtmfp://"+addr+"/live"); res.Name != "_result" {
		t.Fatalf("connect: %+v", res)
	}
	send(t, c, 0, &message.Command{Name: "setPeerInfo", Args: []any{"127.0.0.1:1"}})
	deadline := time.After(5 * time.Second)
	for {
		got := make(chan *message.Message, 1)
		go func() {
			m, _ := c.ReadMessage()
			got <- m
		}()
		select {
		case m := <-got:
			if m == nil {
				t.Fatal("connection closed before Set Keepalive")
			}
			if m.Type == message.TypeUserControl && len(m.Payload) >= 2 && binary.BigEndian.Uint16(m.Payload) == 41 {
				return
			}
		case <-deadline:
			t.Fatal("no Set Keepalive within 5 s")
		}
	}
}

// TestDialPeer: B reaches A by A's peer ID through our server alone; the
// session is direct (its far address is A's socket, not the server) and
// carries messages both ways. With A's direct path blocked, DialPeer
// times out.
func TestDialPeer(t *testing.T) {
	testpeer.SkipShort(t, "seconds of real-time media and timers")
	st := startStack(t, rtmfp.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, block := range []bool{false, true} {
		a, b := peerPair(ctx, t, st.RTMFPAddr, block)
		dctx, dcancel := context.WithTimeout(ctx, 3*time.Second)
		start := time.Now()
		p, err := b.DialPeer(dctx, a.NearID())
		dcancel()
		if block {
			if err == nil {
				t.Fatal("DialPeer succeeded with the direct path blocked")
			}
			continue
		}
		if err != nil {
			t.Fatalf("DialPeer: %v", err)
		}
		t.Logf("direct session in %v", time.Since(start))
		if p.PeerID() != a.NearID() {
			t.Errorf("far peer ID %s, want %s", p.PeerID(), a.NearID())
		}
		if p.RemoteAddr().String() == st.RTMFPAddr {
			t.Error("the peer session goes to the server")
		}
		send(t, p, 0, &message.Command{Name: "hi", TxID: 0})
		if e := waitCommand(t, p, "echo"); len(e.Args) != 1 || e.Args[0] != "hi" {
			t.Errorf("echo: %+v", e)
		}
		if n := st.RTMFP.Stats().Introductions.Load(); n == 0 {
			t.Error("no introduction counted")
		}
		_ = p.Close()
	}
}

// TestCirrusDeveloperKey: an old P2P SWF's URL, rtmfp://HOST/DEVKEY/,
// connects as it did to Cirrus: any key path is accepted (the live app),
// NetConnection.Connect.Success comes back, nearID is the client's own
// fingerprint, and after setPeerInfo other clients reach it by that ID.
func TestCirrusDeveloperKey(t *testing.T) {
	st := startStack(t, rtmfp.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	id := wire.NewRandomIdentity(false)
	url := "rtmfp://" + st.RTMFPAddr + "/0123456789abcdef01234567-89abcdef0123/"
	a, err := rtmfp.Dial(ctx, url, rtmfp.DialOptions{Identity: id, PeerHandler: echoPeer})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	res := connect(t, a, url)
	if info, _ := res.Args[0].(*amf.Object); res.Name != "_result" || info == nil || info.GetString("code") != "NetConnection.Connect.Success" {
		t.Fatalf("connect: %+v", res)
	}
	if a.NearID() != hexOf(id.Fingerprint[:]) {
		t.Errorf("nearID %s, want the certificate's SHA-256 %x", a.NearID(), id.Fingerprint)
	}
	send(t, a, 0, &message.Command{Name: "setPeerInfo", Args: []any{"127.0.0.1:1"}})
	b, err := rtmfp.Dial(ctx, url, rtmfp.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for {
		dctx, dcancel := context.WithTimeout(ctx, time.Second)
		p, err := b.DialPeer(dctx, a.NearID())
		dcancel()
		if err == nil {
			_ = p.Close()
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("peer not reachable by its nearID: %v", err)
		}
	}
}

// peerPair dials two clients of the live app at addr: a, reachable by its
// peer ID (its direct path blocked when block), and b, which dials it.
// Both close when the test ends.
func peerPair(ctx context.Context, t *testing.T, addr string, block bool) (a, b *rtmfp.Conn) {
	t.Helper()
	url := "rtmfp://" + addr + "/live"
	a, err := rtmfp.Dial(ctx, url, rtmfp.DialOptions{PeerHandler: echoPeer, BlockPeers: block})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	reachable(t, a, addr)
	if b, err = rtmfp.Dial(ctx, url, rtmfp.DialOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return a, b
}

// TestIntroducePolicy: with Config.Introduce set, the rendezvous asks it
// about every introduction with the initiator's real peer ID (its own
// session with the server) and the target's; a refusal is silence, so an
// anonymous IHello for a connected peer learns nothing of its address.
func TestIntroducePolicy(t *testing.T) {
	var allow atomic.Bool
	var mu sync.Mutex
	var asked [][2]string
	st := startStack(t, rtmfp.Config{Introduce: func(initiator, target string) bool {
		mu.Lock()
		asked = append(asked, [2]string{initiator, target})
		mu.Unlock()
		return allow.Load()
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a, b := peerPair(ctx, t, st.RTMFPAddr, false)
	dctx, dcancel := context.WithTimeout(ctx, 2*time.Second)
	_, err := b.DialPeer(dctx, a.NearID())
	dcancel()
	if err == nil {
		t.Fatal("DialPeer succeeded although the policy refuses the introduction")
	}
	if n := st.RTMFP.Stats().Introductions.Load(); n != 0 {
		t.Errorf("%d introductions made against the policy", n)
	}
	if n := st.RTMFP.Stats().IntroductionsRefused.Load(); n == 0 {
		t.Error("no refused introduction counted")
	}
	mu.Lock()
	if len(asked) == 0 || asked[0] != [2]string{b.NearID(), a.NearID()} {
		t.Errorf("policy asked %v, want (initiator %s, target %s)", asked, b.NearID()[:16], a.NearID()[:16])
	}
	mu.Unlock()
	allow.Store(true)
	dctx, dcancel = context.WithTimeout(ctx, 5*time.Second)
	p, err := b.DialPeer(dctx, a.NearID())
	dcancel()
	if err != nil {
		t.Fatalf("DialPeer with the introduction allowed: %v", err)
	}
	_ = p.Close()
}
