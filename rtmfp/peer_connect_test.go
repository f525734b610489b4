package rtmfp_test

import (
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/rtmfp"
)

// TestPeerTCConnConnects: rtmfp-cpp's tcconn completes the handshake,
// connects and starts playing, with HMAC and sequence numbers required (its
// default) and without (-H -S, Flash's way).
func TestPeerTCConnConnects(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{{"hmac+seq", nil}, {"flash", []string{"-H", "-S"}}} {
		t.Run(tc.name, func(t *testing.T) {
			st := startStack(t, rtmfp.Config{})
			args := append(append([]string{"-oL", tool(t, "tcconn")}, tc.args...), "rtmfp://"+st.RTMFPAddr+"/live#down")
			p := testpeer.Start(t, 20*time.Second, "stdbuf", args...)
			waitOutput(t, p, "onConnect success", 10*time.Second)
			waitOutput(t, p, "NetStream.Play.Start", 5*time.Second)
			p.Interrupt()
			<-p.Done()
			t.Logf("tcconn:\n%s", tailString(p.Output(), 1500))
			if got := st.RTMFP.Stats().HandshakesOK.Load(); got != 1 {
				t.Errorf("handshakes ok = %d, want 1", got)
			}
		})
	}
}
