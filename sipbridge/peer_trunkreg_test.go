package sipbridge

import (
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
