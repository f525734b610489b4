// Package teststack starts the whole RTMP stack — listener, rtmp.Server,
// sessions with the given applications, and a media hub — on 127.0.0.1:0
// for tests, and stops it when the test ends. Server logs are kept and shown
// only when the test fails.
package teststack

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"testing"

	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/media/transcode"
	"github.com/flashvox/flashvox/rtmp"
	"github.com/flashvox/flashvox/session"
)

// Options choose what runs; the zero value is a plain live relay: the
// application "live", open to anyone for publish and play.
type Options struct {
	Config rtmp.ConnConfig // zero fields take rtmp's defaults
	// Apps are the applications; "live" (session.Open()) is added unless
	// Apps names it. Any other name is refused, as in the server.
	Apps map[string]session.App
	// Transcode is the transcoding policy by application (missing: token).
	Transcode map[string]session.TranscodePolicy
	// MaxTranscoders is session.Options.MaxTranscoders (0: no bound).
	MaxTranscoders int
	Stats          *session.Stats // nil: not counted
	Hub            *media.Hub     // nil: a new hub with 1024-frame queues
	// Transcoder serves ?codec= plays; nil: a new service on the hub.
	Transcoder *transcode.Service
	Logger     *slog.Logger  // nil: captured, printed on failure
	Hooks      session.Hooks // nil: no connect/publish/play hooks
}

// Stack is a running server.
type Stack struct {
	Addr       string // host:port of the RTMP listener
	Hub        *media.Hub
	Transcoder *transcode.Service
	Server     *rtmp.Server
	// Sessions serves the RTMP server's connections; an RTMFP server
	// started beside it may serve its sessions with it too.
	Sessions *session.Handler
	Logger   *slog.Logger
	logs     *LogBuffer
}

// URL is rtmp://ADDR/APP.
func (s *Stack) URL(app string) string { return fmt.Sprintf("rtmp://%s/%s", s.Addr, app) }

// Logs returns what the server logged so far.
func (s *Stack) Logs() string {
	if s.logs == nil {
		return ""
	}
	return s.logs.String()
}

// Start runs the stack until the test ends.
func Start(t testing.TB, o Options) *Stack {
	t.Helper()
	st := &Stack{Logger: o.Logger}
	if st.Logger == nil {
		st.logs = &LogBuffer{}
		st.Logger = slog.New(slog.NewTextHandler(st.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	st.Hub = o.Hub
	if st.Hub == nil {
		st.Hub = media.NewHub(1024, st.Logger)
	}
	st.Transcoder = o.Transcoder
	if st.Transcoder == nil {
		st.Transcoder = transcode.New(st.Hub, st.Logger)
	}
	apps := map[string]session.App{"live": session.Open()}
	for name, a := range o.Apps {
		apps[name] = a
	}
	st.Sessions = &session.Handler{Options: session.Options{Hub: st.Hub, Transcoder: st.Transcoder, MaxStreams: 8, Apps: apps, Logger: st.Logger, Hooks: o.Hooks,
		Transcode: o.Transcode, MaxTranscoders: o.MaxTranscoders, Stats: o.Stats}}
	st.Server = &rtmp.Server{
		Config: o.Config, MaxConns: 1000, MaxConnsPerIP: 1000, Logger: st.Logger,
		Handler: rtmp.HandlerFunc(func(ctx context.Context, c *rtmp.Conn) { st.Sessions.Serve(ctx, c) }),
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	st.Addr = ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := st.Server.Serve(ctx, ln); err != nil {
			t.Errorf("rtmp serve: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		if t.Failed() && st.logs != nil {
			out := st.logs.String()
			if len(out) > 8000 {
				out = "…" + out[len(out)-8000:]
			}
			t.Logf("server log:\n%s", out)
		}
	})
	return st
}

// LogBuffer collects log lines written from many goroutines.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Tail is the last n bytes of the log (all of it if shorter): what a
// failed test prints.
func (l *LogBuffer) Tail(n int) string {
	s := l.String()
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
