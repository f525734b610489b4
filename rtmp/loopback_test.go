package rtmp

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/rtmp/message"
)

// echoHandler is a trivial command layer: it answers connect, createStream,
// publish and play, echoes any other call's arguments in _result, bounces
// audio back to the sender, and invokes "ping" on the client after connect.
type echoHandler struct{}

func status(code string) *amf.Object {
	return amf.NewObject("level", "status", "code", code, "description", code)
}

func (echoHandler) ServeRTMP(ctx context.Context, c *Conn) {
	reply := func(m *message.Message, cmd *message.Command, args ...any) {
		out := &message.Command{Name: "_result", TxID: cmd.TxID, AMF3: cmd.AMF3, Args: args}
		om, _ := out.MarshalMessage(m.StreamID)
		c.WriteMessage(om)
	}
	for {
		m, err := c.ReadMessage()
		if err != nil {
			return
		}
		switch m.Type {
		case message.TypeAudio:
			c.WriteMessage(m)
			continue
		case message.TypeCommandAMF0, message.TypeCommandAMF3:
		default:
			continue
		}
		cmd, err := message.ParseCommand(m)
		if err != nil {
			return
		}
		switch cmd.Name {
		case "connect":
			c.WriteMessage(message.WindowAckSizeMessage(2500000))
			c.WriteMessage(message.SetPeerBandwidthMessage(2500000, message.LimitDynamic))
			reply(m, cmd, status("NetConnection.Connect.Success"))
			inv := &message.Command{Name: "ping", TxID: 0, Args: []any{"from server"}}
			om, _ := inv.MarshalMessage(0)
			c.WriteMessage(om)
		case "createStream":
			reply(m, cmd, 1.0)
		case "publish":
			st := &message.Command{Name: "onStatus", Args: []any{status("NetStream.Publish.Start")}}
			om, _ := st.MarshalMessage(m.StreamID)
			c.WriteMessage(om)
		case "fail":
			out := &message.Command{Name: "_error", TxID: cmd.TxID, Args: []any{amf.NewObject("level", "error", "code", "Test.Fail")}}
			om, _ := out.MarshalMessage(0)
			c.WriteMessage(om)
		default:
			reply(m, cmd, cmd.Args...)
		}
	}
}

type testServer struct {
	srv    *Server
	url    string
	cancel context.CancelFunc
	done   chan error
}

func startServer(t *testing.T, cfg ConnConfig, h Handler, opts ...func(*Server)) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{
		srv:    &Server{Config: cfg, Handler: h},
		url:    "rtmp://" + ln.Addr().String() + "/live",
		cancel: cancel,
		done:   make(chan error, 1),
	}
	for _, o := range opts {
		o(ts.srv)
	}
	go func() { ts.done <- ts.srv.Serve(ctx, ln) }()
	t.Cleanup(ts.stop)
	return ts
}

func (ts *testServer) stop() {
	ts.cancel()
	<-ts.done
	ts.done <- nil // idempotent for t.Cleanup after an explicit stop
}

func TestLoopback(t *testing.T) {
	ts := startServer(t, ConnConfig{}, echoHandler{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	var mu sync.Mutex
	gotAudio := make(chan *message.Message, 10)
	gotInvoke := make(chan *message.Command, 1)
	for _, enc := range []float64{0, 3} {
		c, err := Dial(ctx, ts.url, ClientOptions{
			ObjectEncoding: enc,
			ConnectArgs:    []any{"user", "token"},
			OnMessage: func(m *message.Message) {
				if m.Type == message.TypeAudio {
					gotAudio <- m
				}
			},
			OnCommand: func(cmd *message.Command, m *message.Message) {
				mu.Lock()
				defer mu.Unlock()
				select {
				case gotInvoke <- cmd:
				default:
				}
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if code := c.ConnectResult().StatusObject().GetString("code"); code != "NetConnection.Connect.Success" {
			t.Fatalf("connect: %q", code)
		}
		res, err := c.Call(ctx, "echo", "a", 2.0)
		if err != nil || len(res.Args) != 2 || res.Args[0] != "a" || res.Args[1] != 2.0 || res.AMF3 != (enc == 3) {
			t.Fatalf("echo: %+v %v", res, err)
		}
		if _, err := c.Call(ctx, "fail"); err == nil {
			t.Fatal("fail: no error")
		}
		id, err := c.CreateStream(ctx)
		if err != nil || id != 1 {
			t.Fatalf("createStream %d %v", id, err)
		}
		if err := c.Publish(ctx, id, "s", "live"); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			c.WriteAudio(id, 0x1000000+uint32(i)*16, payload(65, byte(i)))
		}
		for i := range 3 {
			select {
			case m := <-gotAudio:
				if m.Timestamp != 0x1000000+uint32(i)*16 || m.Payload[0] != byte(i) {
					t.Fatalf("audio %d: %+v", i, m)
				}
			case <-ctx.Done():
				t.Fatal("audio not echoed")
			}
		}
		select {
		case cmd := <-gotInvoke:
			if cmd.Name != "ping" {
				t.Fatalf("invoke %+v", cmd)
			}
		case <-ctx.Done():
			t.Fatal("no server invoke")
		}
		if c.Conn().BytesOut() == 0 || c.Conn().MessagesIn() == 0 {
			t.Fatal("counters")
		}
		c.Close()
	}
	if st := ts.srv.Stats(); st.Served != 2 || st.HandshakeFailures != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestLoopbackShutdown: cancelling Serve's ctx closes open conns and Serve returns.
func TestLoopbackShutdown(t *testing.T) {
	ts := startServer(t, ConnConfig{}, echoHandler{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, ts.url, ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ts.cancel()
	select {
	case <-c.Conn().Done():
	case <-ctx.Done():
		t.Fatal("client not disconnected by shutdown")
	}
}

// payload is n bytes counting up from seed: recognisable test data.
func payload(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i)
	}
	return b
}
