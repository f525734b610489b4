package sipbridge

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	dmedia "github.com/emiago/diago/media"

	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/softphone"
)

// narrowRTPPorts gives the next bridge n RTP ports (n/2 calls) from a
// free even port, and puts diago's process-wide range back after the test.
func narrowRTPPorts(t *testing.T, n int) (lo, hi int) {
	t.Helper()
	oldLo, oldHi := dmedia.RTPPortStart, dmedia.RTPPortEnd
	t.Cleanup(func() { dmedia.RTPPortStart, dmedia.RTPPortEnd = oldLo, oldHi })
	lo = testpeer.FreePorts(t, n+1, 2)
	return lo, lo + n
}

// portsHeld reports the ports of lo..hi that something holds.
func portsHeld(lo, hi int) []int {
	var held []int
	for p := lo; p < hi; p++ {
		c, err := net.ListenPacket("udp", ":"+strconv.Itoa(p))
		if err != nil {
			held = append(held, p)
			continue
		}
		c.Close()
	}
	return held
}

// TestPeerAnonymousEcho: 60 INVITEs without credentials from 127.0.0.2
// (not a trunk's address) to echo and to the echo number, with a range of
// 10 RTP ports (5 calls), all get 407: no call is answered and no RTP
// port is taken; alice's call to a trunk number still connects and she
// hears her tone back.
func TestPeerAnonymousEcho(t *testing.T) {
	testpeer.SkipShort(t, "real SIP traffic")
	lo, hi := narrowRTPPorts(t, 10)
	uas, addr := testpeer.SippUAS(t, 60*time.Second, 1)
	e := startEnv(t, func(o *Options) { o.Trunks = []Trunk{trunk(addr)}; o.RTPPortMin, o.RTPPortMax = lo, hi })
	// The floods hold every call they get for 20 s (-d): alice calls
	// while they would.
	var floods []*testpeer.Proc
	for _, to := range []string{EchoTarget, "15550000"} {
		floods = append(floods, testpeer.SippUAC(t, 60*time.Second, e.bridge.Addr(), "-sn", "uac", "-s", to, "-i", "127.0.0.2", "-mi", "127.0.0.2",
			"-m", "30", "-l", "30", "-r", "100", "-d", "20000", "-recv_timeout", "5000"))
	}
	testwait.For(t, 15*time.Second, "the 60 anonymous INVITEs to be answered", func() bool { return e.bridge.Stats.Attempts.Load() >= 60 })
	if n := e.bridge.Stats.Active.Load(); n != 0 {
		t.Errorf("%d anonymous calls answered", n)
	}
	if held := portsHeld(lo, hi); len(held) > 0 {
		t.Errorf("RTP ports held during the anonymous calls: %v", held)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := softphone.Call(ctx, softphone.Options{Server: e.rtmpURL, User: "alice", Secret: "alice", Codec: codec.Nellymoser,
		Mic: mic(), Duration: 3 * time.Second, SetupTimeout: 10 * time.Second}, "+15551234567")
	if err != nil {
		t.Fatalf("alice's call after the anonymous ones: %v", err)
	}
	checkHeard(t, "alice", r.Heard)
	if err := uas.Wait(); err != nil {
		t.Fatalf("sipp uas: %v\n%s", err, uas.Output())
	}
	for _, f := range floods {
		if err := f.Wait(); err == nil {
			t.Errorf("anonymous calls succeeded:\n%s", f.Output())
		}
	}
}

// TestPeerCallerID: an INVITE to bob's number with From alice from
// elsewhere (127.0.0.2) is challenged and never rings bob; the same from
// the trunk's address rings bob as "ext:alice", never as alice.
func TestPeerCallerID(t *testing.T) {
	testpeer.SkipShort(t, "real SIP traffic")
	e := startEnvRing(t, time.Second, nil)
	dev := e.calls.Attach("bob", call.KindSIP)
	defer e.calls.Detach(dev)
	lg := e.calls.Log("bob")
	head := lg.Head()
	elsewhere := newProbe(t, "127.0.0.2", e.bridge.Addr())
	if a := elsewhere.send(sipReq{method: "INVITE", from: "alice", to: "15550001"}); a.code != 407 {
		t.Errorf("spoofed caller from elsewhere: %s, want 407", a.status)
	}
	if p := lg.Since(head, 0); len(p.Events) != 0 {
		t.Fatalf("bob's log after a call from elsewhere: %+v", p.Events)
	}
	fromTrunk := newProbe(t, "127.0.0.1", e.bridge.Addr())
	if a := fromTrunk.send(sipReq{method: "INVITE", from: "alice", to: "15550001"}); a.code != 480 {
		t.Errorf("the trunk's call, unanswered: %s, want 480", a.status)
	}
	var from []string
	for _, en := range lg.Since(head, 0).Events {
		if ev, ok := en.Event.(call.Event); ok && ev.Type == call.EvIncoming {
			from = append(from, ev.From)
		}
	}
	if len(from) != 1 || from[0] != ExternalPrefix+"alice" {
		t.Fatalf("bob was rung by %q, want [ext:alice]", from)
	}
	t.Logf("bob saw the trunk's caller as %q", from[0])
}
