package rtmfp_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/testpeer"
	"github.com/flashvox/flashvox/rtmfp"
)

var (
	myFingerprint = regexp.MustCompile(`my fingerprint: ([0-9a-f]{64})`)
	boundPort     = regexp.MustCompile(`bound to IPv4 port (\d+)`)
)

// TestPeerIntroduction: tcconn connects to flashvox and sends setPeerInfo;
// fcclient, given only tcconn's peer ID and flashvox's address, is
// introduced (redirect + forwarded hello) and opens a session straight to
// tcconn: the far address it prints is tcconn's own.
func TestPeerIntroduction(t *testing.T) {
	st := startStack(t, rtmfp.Config{})
	tc := testpeer.Start(t, 30*time.Second, "stdbuf", "-oL", tool(t, "tcconn"), "rtmfp://"+st.RTMFPAddr+"/live#x")
	waitOutput(t, tc, "NetStream.Play.Start", 10*time.Second) // setPeerInfo came before createStream
	fp := myFingerprint.FindStringSubmatch(tc.Output())
	port := boundPort.FindStringSubmatch(tc.Output())
	if fp == nil || port == nil {
		t.Fatalf("tcconn did not print its fingerprint and port:\n%s", tc.Output())
	}
	host, srvPort, _ := strings.Cut(st.RTMFPAddr, ":")
	fc := testpeer.Start(t, 20*time.Second, "stdbuf", "-oL", tool(t, "fcclient"), "-f", fp[1], host, srvPort)
	waitOutput(t, fc, "became writable!", 10*time.Second)
	waitOutput(t, fc, "fingerprint: "+fp[1], 2*time.Second)
	if want := "addr: 127.0.0.1:" + port[1]; !strings.Contains(fc.Output(), want) {
		t.Errorf("fcclient's far address is not tcconn's (%s):\n%s", want, tailString(fc.Output(), 1500))
	}
	if n := st.RTMFP.Stats().Introductions.Load(); n == 0 {
		t.Error("no introduction counted")
	}
}
