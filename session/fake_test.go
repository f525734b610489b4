package session

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/rtmp/message"
)

// fakeTransport feeds a session scripted messages and records its output.
type fakeTransport struct {
	in   chan *message.Message
	mu   sync.Mutex
	out  []*message.Message
	cond chan struct{}
}

func newFake() *fakeTransport {
	return &fakeTransport{in: make(chan *message.Message, 64), cond: make(chan struct{}, 1)}
}

func (f *fakeTransport) ReadMessage() (*message.Message, error) {
	m, ok := <-f.in
	if !ok {
		return nil, io.EOF
	}
	return m, nil
}

func (f *fakeTransport) WriteMessage(m *message.Message) error {
	c := *m // like rtmp.Conn: the struct is copied, the payload shared
	f.mu.Lock()
	f.out = append(f.out, &c)
	f.mu.Unlock()
	select {
	case f.cond <- struct{}{}:
	default:
	}
	return nil
}

func (f *fakeTransport) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}
}

// waitFor returns the first output message (from index *from on) matching
// pred, advancing *from past it.
func (f *fakeTransport) waitFor(t *testing.T, from *int, what string, pred func(*message.Message) bool) *message.Message {
	t.Helper()
	deadline := time.After(3 * time.Second)
	for {
		f.mu.Lock()
		for i := *from; i < len(f.out); i++ {
			if pred(f.out[i]) {
				*from = i + 1
				m := f.out[i]
				f.mu.Unlock()
				return m
			}
		}
		f.mu.Unlock()
		select {
		case <-f.cond:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func isCommand(name string) func(*message.Message) bool {
	return func(m *message.Message) bool {
		if m.Type != message.TypeCommandAMF0 && m.Type != message.TypeCommandAMF3 {
			return false
		}
		c, err := message.ParseCommand(m)
		return err == nil && c.Name == name
	}
}

func isStatus(code string) func(*message.Message) bool {
	return func(m *message.Message) bool {
		if !isCommand("onStatus")(m) {
			return false
		}
		c, _ := message.ParseCommand(m)
		o := c.StatusObject()
		return o != nil && o.GetString("code") == code
	}
}

func cmd(t *testing.T, stream uint32, name string, tx float64, obj any, args ...any) *message.Message {
	t.Helper()
	m, err := (&message.Command{Name: name, TxID: tx, Object: obj, Args: args}).MarshalMessage(stream)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

type harness struct {
	t    *testing.T
	hub  *media.Hub
	ft   *fakeTransport
	pos  int
	done chan error
}

func startSession(t *testing.T, hub *media.Hub) *harness {
	t.Helper()
	return startSessionWith(t, Options{Hub: hub, MaxStreams: 4, Apps: map[string]App{"live": Open()}})
}

// startSessionWith runs a session with opts (opts.Hub is the hub).
func startSessionWith(t *testing.T, opts Options) *harness {
	t.Helper()
	hub := opts.Hub
	h := &harness{t: t, hub: hub, ft: newFake(), done: make(chan error, 1)}
	s := New(h.ft, opts)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { h.done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		close(h.ft.in)
		<-h.done
	})
	return h
}

func (h *harness) send(m *message.Message) { h.ft.in <- m }

func (h *harness) expect(what string, pred func(*message.Message) bool) *message.Message {
	h.t.Helper()
	return h.ft.waitFor(h.t, &h.pos, what, pred)
}

func (h *harness) connect(extra ...any) {
	h.t.Helper()
	kv := append([]any{"app", "live", "tcUrl", "rtmp://127.0.0.1/live"}, extra...)
	h.send(cmd(h.t, 0, "connect", 1, amf.NewObject(kv...)))
	h.expect("connect _result", isCommand("_result"))
}

// createStream returns the new stream id.
func (h *harness) createStream(tx float64) uint32 {
	h.t.Helper()
	h.send(cmd(h.t, 0, "createStream", tx, nil))
	m := h.expect("createStream _result", isCommand("_result"))
	c, _ := message.ParseCommand(m)
	id, _ := c.Args[0].(float64)
	return uint32(id)
}
