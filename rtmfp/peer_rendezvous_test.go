package rtmfp_test

import (
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
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

// startTCConn runs tcconn against addr until it has sent setPeerInfo and
// returns it with its fingerprint and port.
func startTCConn(t *testing.T, addr string) (*testpeer.Proc, string, string) {
	t.Helper()
	tc := testpeer.Start(t, 30*time.Second, "stdbuf", "-oL", tool(t, "tcconn"), "rtmfp://"+addr+"/live#x")
	waitOutput(t, tc, "NetStream.Play.Start", 10*time.Second)
	fp := myFingerprint.FindStringSubmatch(tc.Output())
	port := boundPort.FindStringSubmatch(tc.Output())
	if fp == nil || port == nil {
		t.Fatalf("tcconn did not print its fingerprint and port:\n%s", tc.Output())
	}
	return tc, fp[1], port[1]
}

// fcclientWritable runs fcclient -f fp against addr for within and reports
// whether it reached a peer (and its output).
func fcclientWritable(t *testing.T, addr, fp string, within time.Duration) (bool, string) {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	// It lives past within: after becoming writable it still prints the far
	// end's address and fingerprint.
	fc := testpeer.Start(t, within+10*time.Second, "stdbuf", "-oL", tool(t, "fcclient"), "-f", fp, host, port)
	deadline := time.After(within)
	for !strings.Contains(fc.Output(), "became writable!") {
		select {
		case <-fc.Done():
			return strings.Contains(fc.Output(), "became writable!"), fc.Output()
		case <-deadline:
			fc.Stop()
			return false, fc.Output()
		case <-time.After(20 * time.Millisecond):
		}
	}
	waitOutput(t, fc, "fingerprint: "+fp, 10*time.Second) // the far end's, not the "my fingerprint" line
	fc.Stop()
	return true, fc.Output()
}

// TestPeerRendezvousPolicy: with real peers, a peer ID nobody holds gets
// silence (fcclient never becomes writable); one held on another server
// listed in redirect servers is reached through that server (fcclient ends
// up in a session with tcconn connected to the other server); and once
// tcconn has gone, its peer ID is not introduced any more.
func TestPeerRendezvousPolicy(t *testing.T) {
	b := startStack(t, rtmfp.Config{})
	bAddr := netip.MustParseAddrPort(b.RTMFPAddr)
	a := startStack(t, rtmfp.Config{RedirectServers: []netip.AddrPort{bAddr}})

	unknown := strings.Repeat("ab", 32)
	if ok, out := fcclientWritable(t, b.RTMFPAddr, unknown, 3*time.Second); ok {
		t.Errorf("fcclient reached an unknown peer ID:\n%s", tailString(out, 1500))
	}
	if b.RTMFP.Stats().UnknownPeers.Load() == 0 {
		t.Error("unknown lookup not counted")
	}

	tc, fp, port := startTCConn(t, b.RTMFPAddr)
	ok, out := fcclientWritable(t, a.RTMFPAddr, fp, 10*time.Second)
	if !ok || !strings.Contains(out, "addr: 127.0.0.1:"+port) || !strings.Contains(out, "fingerprint: "+fp) {
		t.Fatalf("fcclient via the redirecting server did not reach tcconn (port %s):\n%s", port, tailString(out, 1500))
	}
	if a.RTMFP.Stats().UnknownPeers.Load() == 0 || b.RTMFP.Stats().Introductions.Load() == 0 {
		t.Errorf("redirect %+v / introduction %+v not counted", a.RTMFP.Stats().Snapshot(), b.RTMFP.Stats().Snapshot())
	}

	tc.Interrupt() // tcconn closes its session
	<-tc.Done()
	testwait.For(t, 15*time.Second, "server B's sessions closed", func() bool { return b.RTMFP.Stats().Sessions.Load() == 0 })
	if ok, out := fcclientWritable(t, b.RTMFPAddr, fp, 3*time.Second); ok {
		t.Errorf("a closed session's peer ID was introduced:\n%s", tailString(out, 1500))
	}
}
