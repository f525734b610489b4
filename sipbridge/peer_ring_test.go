package sipbridge

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/internal/test/testpeer"
)

// ringingUser attaches a device of user that never answers (a web phone
// left ringing) and returns a function that waits for the end of the
// call it rings: the event a web client turns into onCancelled.
func ringingUser(t *testing.T, e *env, user string) func() call.Event {
	t.Helper()
	lg := e.calls.Log(user)
	cursor := lg.Head()
	d := e.calls.Attach(user, call.KindRTMP)
	t.Cleanup(func() { e.calls.Detach(d) })
	return func() call.Event {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		rang := false
		for {
			p, err := lg.Wait(ctx, cursor, 0)
			if err != nil {
				t.Fatalf("%s: no end of the call (rang %v): %v", user, rang, err)
			}
			cursor = p.Next
			for _, en := range p.Events {
				ev, _ := en.Event.(call.Event)
				switch ev.Type {
				case call.EvIncoming:
					rang = true
				case call.EvCanceled, call.EvRejected, call.EvBye:
					if !rang {
						t.Errorf("%s: call ended without ringing", user)
					}
					return ev
				}
			}
		}
	}
}

// TestPeerSippInboundCancel: sipp calls 15550001 (bob) and sends CANCEL
// while bob's device rings: sipp gets 200 to the CANCEL and 487 to the
// INVITE; bob's log gets cancelled with reason cancelled (onCancelled).
func TestPeerSippInboundCancel(t *testing.T) {
	testpeer.Require(t, "sipp")
	e := startEnv(t, nil)
	end := ringingUser(t, e, "bob")
	uac := testpeer.SippUAC(t, 20*time.Second, e.bridge.Addr(), "-sf", "testdata/uac_cancel.xml", "-s", "15550001", "-m", "1")
	ev := end()
	if ev.Type != call.EvCanceled || ev.Reason != call.ReasonCanceled {
		t.Errorf("bob's call ended with %s %s, want cancelled cancelled", ev.Type, ev.Reason)
	}
	if err := uac.Wait(); err != nil {
		t.Fatalf("sipp: %v\n%s", err, uac.Output())
	}
}

// TestPeerSippInboundNoAnswer: sipp calls 15550001; bob's device rings
// and nobody answers: after the ring timeout (1 s here) sipp gets 480
// and bob's log gets cancelled with reason no_answer.
func TestPeerSippInboundNoAnswer(t *testing.T) {
	testpeer.Require(t, "sipp")
	const ring = time.Second
	e := startEnvRing(t, ring, nil)
	end := ringingUser(t, e, "bob")
	start := time.Now()
	uac := testpeer.SippUAC(t, 20*time.Second, e.bridge.Addr(), "-sf", "testdata/uac_noanswer.xml", "-s", "15550001", "-m", "1")
	ev := end()
	took := time.Since(start)
	if ev.Type != call.EvCanceled || ev.Reason != call.ReasonNoAnswer {
		t.Errorf("bob's call ended with %s %s, want cancelled no_answer", ev.Type, ev.Reason)
	}
	if took < ring || took > ring+2*time.Second {
		t.Errorf("the call ended after %v, ring timeout %v", took, ring)
	}
	if err := uac.Wait(); err != nil {
		t.Fatalf("sipp: %v\n%s", err, uac.Output())
	}
	if codes, _ := e.bridge.Stats.Failures(); !strings.Contains(strings.Join(codes, ","), "480") {
		t.Errorf("failures by status %v, want a 480", codes)
	}
}
