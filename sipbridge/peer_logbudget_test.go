package sipbridge

import (
	"bytes"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

// lockedBuffer is a log sink shared by the bridge's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// captureStderr points file descriptor 2 at a file until the returned
// func, which gives what was written there.
func captureStderr(t *testing.T) func() string {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	saved, err := syscall.Dup(2)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Dup2(int(f.Fd()), 2); err != nil {
		t.Fatal(err)
	}
	return func() string {
		_ = syscall.Dup2(saved, 2)
		syscall.Close(saved)
		b, _ := os.ReadFile(f.Name())
		f.Close()
		return string(b)
	}
}

// TestPeerLogBudget (sipgo wrote raw datagrams, binary
// included, to stderr; each linphone call wrote ~185 "RTCP Unmarshal
// error" lines outside the log format): during a sipp call to the echo
// number, 2 000 malformed RTCP packets go to the call's RTCP port and 200
// binary datagrams to the SIP port. They are counted
// (Stats.RTCPMalformed, Stats.SIPMalformed); the log (Info level, as in
// production) gets at most a few lines about them, without their bytes;
// nothing at all reaches stderr.
func TestPeerLogBudget(t *testing.T) {
	scen := uacScenario(t)
	// 5 RTP/RTCP pairs: a port of the range held by another process must
	// not fail the call. Every RTCP port of the range is flooded; only
	// the call's socket gets (and counts) the packets.
	lo, hi := narrowRTPPorts(t, 10)
	var logs lockedBuffer
	restore := captureStderr(t)
	stderr := ""
	defer func() {
		if stderr == "" {
			stderr = restore()
		}
	}()
	e := startEnv(t, func(o *Options) {
		o.RTPPortMin, o.RTPPortMax = lo, hi
		o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	uac := testpeer.SippUAC(t, 30*time.Second, e.bridge.Addr(), "-sf", scen, "-s", "15550000", "-m", "1")
	testwait.For(t, 10*time.Second, "the echo call", func() bool { return e.bridge.Stats.Active.Load() == 1 })
	flood, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer flood.Close()
	garbage := []byte{0x00, 0xff, 0x13, 0x37, 'n', 'o', 't', ' ', 'r', 't', 'c', 'p', 0x00, 0x01}
	for i := range 20 { // batches, each waited for: a busy machine's socket buffer must not drop them
		for range 100 {
			for p := lo + 1; p < hi; p += 2 {
				_, _ = flood.WriteToUDP(garbage, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
			}
		}
		want := uint64(100 * (i + 1))
		testwait.For(t, 5*time.Second, "malformed RTCP counted", func() bool { return e.bridge.Stats.RTCPMalformed.Load() >= want*9/10 })
	}
	sipConn, err := net.Dial("udp", e.bridge.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer sipConn.Close()
	for range 200 {
		_, _ = sipConn.Write([]byte("INVITE \x00\x01\x02\xff\xfe binary\r\n\r\n"))
	}
	testwait.For(t, 5*time.Second, "malformed SIP counted", func() bool { return e.bridge.Stats.SIPMalformed.Load() >= 150 })
	if err := uac.Wait(); err != nil {
		t.Fatalf("sipp uac: %v\n%s", err, uac.Output())
	}
	stderr = restore()
	out := logs.String()
	lines := strings.Count(out, "\n")
	rtcpLines := strings.Count(strings.ToLower(out), "rtcp")
	t.Logf("RTCP malformed %d, SIP malformed %d, suppressed %d; log lines %d (%d about RTCP); stderr %d bytes",
		e.bridge.Stats.RTCPMalformed.Load(), e.bridge.Stats.SIPMalformed.Load(), e.bridge.Stats.LogSuppressed.Load(), lines, rtcpLines, len(stderr))
	if rtcpLines > 3 || lines > 40 {
		t.Errorf("log budget exceeded: %d lines, %d about RTCP:\n%s", lines, rtcpLines, out)
	}
	if strings.ContainsAny(out, "\x00\xff") || strings.Contains(out, "binary") {
		t.Errorf("raw datagram bytes in the log:\n%q", out)
	}
	if stderr != "" {
		t.Errorf("written to stderr:\n%q", stderr)
	}
}
