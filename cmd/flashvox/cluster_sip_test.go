package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

// TestPeerClusterTrunkToUserOnOtherNode: sipp, as a trunk, calls the
// inbound number 5550100 (target bob) on node a; bob's phone is connected
// to node b only. Node a rings bob on b over the cluster; bob answers with
// an 880 Hz tone, sipp echoes the RTP it gets, and bob hears his own tone
// back: the audio went b → a → trunk → a → b. The trunk
// (testdata/uac_hold.xml) holds the call with a re-INVITE a=sendonly and
// resumes it: bob's phone on b gets hold (sendonly) then unhold. A second
// call while bob is offline everywhere is refused 480 (sipp counts a
// failed call).
func TestPeerClusterTrunkToUserOnOtherNode(t *testing.T) {
	testpeer.SkipShort(t, "real peers")
	testpeer.Require(t, "sipp")
	routes := []string{"127.0.0.1:" + strconv.Itoa(testpeer.FreePort(t)), "127.0.0.1:" + strconv.Itoa(testpeer.FreePort(t))}
	yaml := fmt.Sprintf("cluster:\n  routes: [%s]\nsip:\n  inbound:\n    - {number: \"5550100\", target: bob}\n", strings.Join(routes, ", "))
	aSIP := freeAddr(t)
	a := startClusterNode(t, "a", yaml, "FLASHVOX_CLUSTER_LISTEN="+routes[0], "FLASHVOX_SIP_LISTEN="+aSIP, "FLASHVOX_CALL_RING_TIMEOUT=10s")
	b := startClusterNode(t, "b", yaml, "FLASHVOX_CLUSTER_LISTEN="+routes[1], "FLASHVOX_CALL_RING_TIMEOUT=10s")
	for _, s := range []*server{a, b} {
		testwait.For(t, 15*time.Second, "both nodes in /api/v1/cluster", func() bool { return strings.Join(clusterNodes(t, s), ",") == "a,b" })
	}
	rec := filepath.Join(t.TempDir(), "bob.wav")
	bob := b.phone(t, "bob", "answer", "--play", writeTone(t, 880), "--record", rec, "--codec", "nellymoser", "--timeout", "30s")
	waitUsersOn(t, a, "b", 1)
	trunk := testpeer.SippUAC(t, 40*time.Second, aSIP, "-sf", "testdata/uac_hold.xml", "-s", "5550100", "-m", "1", "-rtp_echo", "-timeout", "30s")
	if err := trunk.Wait(); err != nil {
		t.Fatalf("sipp (the trunk) calling bob through node a: %v\n%s", err, trunk.Output())
	}
	code, out := bob.wait(t, 15*time.Second)
	if code != 0 {
		t.Fatalf("bob exit %d: %s", code, out)
	}
	if !strings.Contains(out, "holds: hold sendonly, unhold\n") {
		t.Errorf("bob on b must get the trunk's hold (sendonly) and unhold from a: %s", out)
	}
	pcm, rate, err := audiotest.ReadWAV(rec)
	if err != nil {
		t.Fatal(err)
	}
	at880, at440 := audiotest.ToneDB(pcm, rate, 880), audiotest.ToneDB(pcm, rate, 440)
	t.Logf("bob (node b) heard %.1f s of the trunk's echo: 880 Hz at %.1f dB, 440 Hz at %.1f dB", float64(len(pcm))/float64(rate), at880, at440)
	if at880 < -35 || at880 < at440+20 {
		t.Errorf("bob must hear his 880 Hz tone echoed by the trunk through node a")
	}
	if !strings.Contains(a.logs.String(), "trunk call to a user on another node") {
		t.Errorf("node a's log does not show the call placed on node b")
	}
	// bob is offline everywhere now: the trunk's call is refused (480).
	waitUsersOn(t, a, "b", 0)
	again := testpeer.SippUAC(t, 30*time.Second, aSIP, "-sn", "uac", "-s", "5550100", "-m", "1", "-timeout", "20s")
	if err := again.Wait(); err == nil {
		t.Fatalf("a call to an offline bob must fail\n%s", again.Output())
	}
}
