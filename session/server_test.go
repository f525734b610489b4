package session_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/internal/test/teststack"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/media/transcode"
	"github.com/flashvox/flashvox/rtmp"
	"github.com/flashvox/flashvox/rtmp/message"
	"github.com/flashvox/flashvox/session"
)

type testServer struct {
	Addr       string
	Hub        *media.Hub
	Transcoder *transcode.Service
	Srv        *rtmp.Server
}

// URL is rtmp://ADDR/live/NAME.
func (s *testServer) URL(name string) string { return fmt.Sprintf("rtmp://%s/live/%s", s.Addr, name) }

// App is rtmp://ADDR/live, the URL Go clients connect to (the path is the app).
func (s *testServer) App() string { return fmt.Sprintf("rtmp://%s/live", s.Addr) }

// startServer runs the full RTMP stack (server, sessions, hub) on
// 127.0.0.1:0 with one application, "live", open to anyone for publish,
// play and transcoding (the access rules have their own tests).
func startServer(t testing.TB, cfg rtmp.ConnConfig) *testServer {
	t.Helper()
	st := teststack.Start(t, teststack.Options{Config: cfg, Transcode: map[string]session.TranscodePolicy{"live": session.TranscodeOpen}})
	return &testServer{Addr: st.Addr, Hub: st.Hub, Transcoder: st.Transcoder, Srv: st.Server}
}

// player is a Go client playing one stream and recording what it gets.
type player struct {
	c        *rtmp.Client
	mu       sync.Mutex
	audio    []*message.Message
	statuses []string
	changed  chan struct{}
}

func dialPlayer(t testing.TB, url, name string) *player {
	t.Helper()
	p := &player{changed: make(chan struct{}, 1)}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := rtmp.Dial(ctx, url, rtmp.ClientOptions{
		OnMessage: func(m *message.Message) {
			if m.Type == message.TypeAudio {
				p.mu.Lock()
				p.audio = append(p.audio, m)
				p.mu.Unlock()
				p.signal()
			}
		},
		OnStatus: func(_ uint32, info *amf.Object) {
			p.mu.Lock()
			p.statuses = append(p.statuses, info.GetString("code"))
			p.mu.Unlock()
			p.signal()
		},
	})
	if err != nil {
		t.Fatalf("dial player: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	p.c = c
	id, err := c.CreateStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Play(ctx, id, name); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *player) signal() {
	select {
	case p.changed <- struct{}{}:
	default:
	}
}

func (p *player) audioCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.audio)
}

func (p *player) hasStatus(code string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.statuses {
		if s == code {
			return true
		}
	}
	return false
}

func (p *player) payloads() [][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([][]byte, len(p.audio))
	for i, m := range p.audio {
		out[i] = m.Payload
	}
	return out
}

// publisher dials and publishes name, returning the client and stream id.
func dialPublisher(t testing.TB, url, name string) (*rtmp.Client, uint32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := rtmp.Dial(ctx, url, rtmp.ClientOptions{})
	if err != nil {
		t.Fatalf("dial publisher: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	id, err := c.CreateStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Publish(ctx, id, name, "live"); err != nil {
		t.Fatal(err)
	}
	return c, id
}

func equalPayloads(t testing.TB, what string, want, got [][]byte, skipFirstByte bool) {
	t.Helper()
	if len(got) != len(want) {
		where := "elsewhere"
		switch {
		case len(got) > 0 && len(want) > 0 && bytes.Equal(got[0], want[0]) && bytes.Equal(got[len(got)-1], want[len(got)-1]):
			where = "at the end"
		case len(got) > 0 && len(want) > 0 && bytes.Equal(got[len(got)-1], want[len(want)-1]):
			where = "at the start"
		}
		t.Fatalf("%s: %d audio payloads, want %d (the difference is %s)", what, len(got), len(want), where)
	}
	for i := range want {
		w, g := want[i], got[i]
		if skipFirstByte && len(w) > 0 && len(g) > 0 {
			w, g = w[1:], g[1:]
		}
		if !bytes.Equal(w, g) {
			t.Fatalf("%s: payload %d differs:\nwant % x\ngot  % x", what, i, head(w), head(g))
		}
	}
}

func head(b []byte) []byte {
	if len(b) > 24 {
		return b[:24]
	}
	return b
}

// rtmpConfig is the server configuration tests use: defaults, with a short
// ping so dead peers are found quickly.
func rtmpConfig() rtmp.ConnConfig {
	return rtmp.ConnConfig{PingInterval: 2 * time.Second, ReadTimeout: 6 * time.Second}
}
