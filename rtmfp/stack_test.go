package rtmfp_test

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/teststack"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/rtmfp"
)

// stack is the RTMP stack with an RTMFP server on the same hub.
type stack struct {
	*teststack.Stack
	RTMFP     *rtmfp.Server
	RTMFPAddr string
}

func startStack(t *testing.T, cfg rtmfp.Config) *stack {
	t.Helper()
	st := teststack.Start(t, teststack.Options{})
	if cfg.Logger == nil {
		cfg.Logger = st.Logger.With("component", "rtmfp")
	}
	srv := &rtmfp.Server{
		Config: cfg,
		// The same applications as over RTMP.
		Handler: rtmfp.HandlerFunc(func(ctx context.Context, c *rtmfp.Conn) { st.Sessions.Serve(ctx, c, "transport", "rtmfp") }),
	}
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ctx, pc)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		if t.Failed() {
			t.Logf("server log:\n%s", tailString(st.Logs(), 6000))
		}
	})
	return &stack{Stack: st, RTMFP: srv, RTMFPAddr: pc.LocalAddr().String()}
}

func tailString(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// tool is the path of one of rtmfp-cpp's tools.
func tool(t *testing.T, name string) string {
	t.Helper()
	return filepath.Join(testpeer.RTMFPTools(t), name)
}

// waitOutput waits until p printed want (or fails after within).
func waitOutput(t *testing.T, p *testpeer.Proc, want string, within time.Duration) {
	t.Helper()
	testwait.ForDetail(t, within, fmt.Sprintf("%s to print %q", p.Name, want), func() bool {
		return strings.Contains(p.Output(), want) || p.Exited()
	}, func() string { return tailString(p.Output(), 3000) })
	if !strings.Contains(p.Output(), want) {
		t.Fatalf("%s exited without printing %q:\n%s", p.Name, want, tailString(p.Output(), 3000))
	}
}
