package sipbridge

import (
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

// TestPeerSippTrunkRegister: with register: true the bridge REGISTERs to
// the trunk (our sipp registrar, testdata/uas_register.xml), answers its
// 401 with the trunk's credentials (sipp verifies the digest), renews the
// 2 s binding the registrar grants before it runs out, and removes it
// (Expires: 0) when the bridge closes.
func TestPeerSippTrunkRegister(t *testing.T) {
	uas, addr := testpeer.SippUAS(t, 30*time.Second, 1, "-sf", "testdata/uas_register.xml")
	e := startEnv(t, func(o *Options) {
		tr := trunk(addr)
		tr.Username, tr.Password, tr.Register, tr.RegisterExpires = "trunkuser", "trunkpass", true, time.Minute
		o.Trunks = []Trunk{tr}
	})
	testwait.For(t, 10*time.Second, "a refreshed trunk registration", func() bool { return e.bridge.Stats.TrunkRegisters.Load() >= 2 })
	if n := e.bridge.Stats.TrunkRegistered.Load(); n != 1 {
		t.Errorf("trunks registered = %d, want 1", n)
	}
	// The dashboard's view of it (adminstate.go).
	if ts := e.bridge.Trunks(); len(ts) != 1 || !ts[0].Registered || !ts[0].Register || ts[0].Address != addr || ts[0].Since.IsZero() || ts[0].Error != "" {
		t.Errorf("trunk states: %+v", ts)
	}
	if err := e.bridge.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if err := uas.Wait(); err != nil {
		t.Fatalf("sipp registrar: %v\n%s", err, uas.Output())
	}
}

// TestPeerSippTrunkReload: a reload that removes a registered trunk ends
// its registration (Expires: 0, which the sipp registrar waits for) while
// the bridge runs on; numbers its plan routed to it are refused from then
// on, and a reload that adds it back under a new plan reports it.
func TestPeerSippTrunkReload(t *testing.T) {
	testpeer.SkipShort(t, "real peer")
	uas, addr := testpeer.SippUAS(t, 30*time.Second, 1, "-sf", "testdata/uas_register.xml")
	tr := trunk(addr)
	tr.Username, tr.Password, tr.Register, tr.RegisterExpires = "trunkuser", "trunkpass", true, time.Minute
	plan := []Rule{{Match: regexp.MustCompile(`^[0-9]{6,}$`), Trunk: tr.Name}}
	e := startEnv(t, func(o *Options) { o.Trunks, o.DialPlan = []Trunk{tr}, plan })
	// The registrar's scenario: register, one refresh, then the unregister.
	testwait.For(t, 10*time.Second, "a refreshed trunk registration", func() bool { return e.bridge.Stats.TrunkRegisters.Load() >= 2 })
	if _, err := e.bridge.checkDial("alice", "0301234567"); err != nil {
		t.Fatalf("before the reload: %v", err)
	}
	got := e.bridge.Reload(nil, nil, nil)
	if len(got.TrunksRemoved) != 1 || !got.DialPlanChanged || e.bridge.Stats.TrunkRegistered.Load() != 0 {
		t.Errorf("reload without the trunk: %+v, registered %d", got, e.bridge.Stats.TrunkRegistered.Load())
	}
	if err := uas.Wait(); err != nil {
		t.Fatalf("sipp registrar (want the unregister): %v\n%s", err, uas.Output())
	}
	if _, err := e.bridge.checkDial("alice", "0301234567"); !errors.Is(err, ErrNoRoute) {
		t.Errorf("after the reload: %v, want ErrNoRoute", err)
	}
	tr.Register = false
	if got := e.bridge.Reload([]Trunk{tr}, plan, nil); len(got.TrunksAdded) != 1 || len(got.Reregistered) != 0 {
		t.Errorf("reload with the trunk back: %+v", got)
	}
	if _, err := e.bridge.checkDial("alice", "0301234567"); err != nil {
		t.Errorf("after adding the trunk back: %v", err)
	}
}
