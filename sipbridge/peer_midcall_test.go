package sipbridge

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/softphone"
)

// pcapScenario writes testdata/name with sip-tester's pcap folder filled in.
func pcapScenario(t *testing.T, name string) string {
	t.Helper()
	testpeer.Require(t, "sipp")
	if _, err := os.Stat(filepath.Join(pcapDir, "g711a.pcap")); err != nil {
		t.Fatalf("sip-tester's pcaps are missing (%v): apt-get install -y sip-tester", err)
	}
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(strings.ReplaceAll(string(b), "PCAPDIR", pcapDir)), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// findEvent returns the first event of type typ in user's log.
func findEvent(calls *call.Service, user, typ string) (call.Event, bool) {
	for _, en := range calls.Log(user).Since(0, 0).Events {
		if e, ok := en.Event.(call.Event); ok && e.Type == typ {
			return e, true
		}
	}
	return call.Event{}, false
}

// TestPeerSippTrunkEarlyMedia: the trunk (testdata/uas_early.xml) answers
// 183 with SDP and plays a G.711 A-law announcement from a pcap, then 200
// after 2.5 s. While the call still rings the caller gets early_media with
// a name to play, may play it (the grant holds while ringing), and the
// announcement flows on that stream; after the 200 the same stream goes
// on and the call completes (BYE from us, sipp exit 0).
func TestPeerSippTrunkEarlyMedia(t *testing.T) {
	uas, addr := testpeer.SippUAS(t, 30*time.Second, 1, "-sf", pcapScenario(t, "uas_early.xml"))
	e := startEnv(t, func(o *Options) { o.Trunks = []Trunk{trunk(addr)} })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	type result struct {
		r   *softphone.Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := softphone.Call(ctx, softphone.Options{Server: e.rtmpURL, User: "alice", Secret: "alice", Codec: codec.Nellymoser,
			Mic: mic(), Duration: 2 * time.Second, SetupTimeout: 10 * time.Second}, "+15551234567")
		done <- result{r, err}
	}()
	var early call.Event
	testwait.For(t, 10*time.Second, "an early_media event", func() bool {
		var ok bool
		early, ok = findEvent(e.calls, "alice", call.EvEarlyMedia)
		return ok
	})
	if early.Play == "" {
		t.Fatalf("early_media event without a name to play: %+v", early)
	}
	key, err := e.calls.StreamKey("alice", early.Play, false)
	if err != nil {
		t.Fatalf("alice may not play the early media stream while ringing: %v", err)
	}
	var frames atomic.Int64
	sub := e.hub.Subscribe(key, media.ReceiverFunc(func(f *media.Frame) {
		if f.Kind == media.KindAudio {
			frames.Add(1)
		}
	}))
	defer sub.Close()
	testwait.For(t, 5*time.Second, "25 early media frames", func() bool { return frames.Load() >= 25 })
	if _, ok := findEvent(e.calls, "alice", call.EvAccepted); ok {
		t.Errorf("the call was answered before 25 early frames: early media not before the 200")
	}
	res := <-done
	if res.err != nil {
		t.Fatalf("call: %v", res.err)
	}
	acc, _ := findEvent(e.calls, "alice", call.EvAccepted)
	if acc.Play != early.Play {
		t.Errorf("accepted play %q, want the early media name %q", acc.Play, early.Play)
	}
	t.Logf("early media frames to alice's stream: %d (before and after the answer)", frames.Load())
	if err := uas.Wait(); err != nil {
		t.Fatalf("sipp uas: %v\n%s", err, uas.Output())
	}
}

// TestPeerSippTrunkHold: the trunk (testdata/uas_hold.xml) answers, then
// re-INVITEs with a=sendonly (hold) and later a=sendrecv (resume). The web
// caller's log gets hold (reason sendonly) and unhold, and the bridge sends
// the trunk no RTP while held; the trunk hangs up at the end.
func TestPeerSippTrunkHold(t *testing.T) {
	uas, addr := testpeer.SippUAS(t, 30*time.Second, 1, "-sf", "testdata/uas_hold.xml")
	e := startEnv(t, func(o *Options) { o.Trunks = []Trunk{trunk(addr)} })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := softphone.Call(ctx, softphone.Options{Server: e.rtmpURL, User: "alice", Secret: "alice", Codec: codec.Nellymoser,
			Mic: mic(), SetupTimeout: 10 * time.Second}, "+15551234567")
		done <- err
	}()
	var hold call.Event
	testwait.For(t, 10*time.Second, "a hold event", func() bool {
		var ok bool
		hold, ok = findEvent(e.calls, "alice", call.EvHold)
		return ok
	})
	atHold := e.bridge.Stats.RTPOut.Load()
	testwait.For(t, 5*time.Second, "an unhold event", func() bool {
		_, ok := findEvent(e.calls, "alice", call.EvUnhold)
		return ok
	})
	atUnhold := e.bridge.Stats.RTPOut.Load()
	if hold.Reason != "sendonly" || hold.By != "+15551234567" {
		t.Errorf("hold event = %+v, want reason sendonly by the number", hold)
	}
	t.Logf("RTP sent: %d before the hold, %d during it (1.5 s)", atHold, atUnhold-atHold)
	if atHold < 25 || atUnhold-atHold > 3 {
		t.Errorf("RTP sent before hold %d (want ≥ 25), during hold %d (want ≤ 3)", atHold, atUnhold-atHold)
	}
	testwait.For(t, 5*time.Second, "RTP after the resume", func() bool { return e.bridge.Stats.RTPOut.Load() > atUnhold+10 })
	if err := <-done; err != nil {
		t.Fatalf("call: %v", err)
	}
	if err := uas.Wait(); err != nil {
		t.Fatalf("sipp uas: %v\n%s", err, uas.Output())
	}
}
