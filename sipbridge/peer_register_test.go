package sipbridge

import (
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

// waitFor polls cond every 10 ms until it holds or within passes.
// TestPeerSippRegister: sipp registers as carol (401 challenge, then
// digest with carol's password): carol is online through her SIP phone
// and her contact is bound; the registration expires after the 2 s asked
// for and carol goes offline. A wrong password gets 403 and binds nothing.
func TestPeerSippRegister(t *testing.T) {
	testpeer.Require(t, "sipp")
	e := startEnv(t, func(o *Options) { o.RegisterMinExpires = 1 })
	if p := e.calls.Presence()["carol"]; p != "offline" {
		t.Fatalf("carol is %s before registering", p)
	}
	reg := testpeer.SippUAC(t, 20*time.Second, e.bridge.Addr(), "-sf", "testdata/register.xml", "-s", "carol",
		"-au", "carol", "-ap", "carol", "-key", "expires", "2", "-m", "1")
	if err := reg.Wait(); err != nil {
		t.Fatalf("sipp register: %v\n%s", err, reg.Output())
	}
	if c := e.bridge.Registered("carol"); len(c) != 1 || !strings.HasPrefix(c[0], "sip:carol@127.0.0.1:") {
		t.Fatalf("carol's contacts: %q", c)
	}
	if p := e.calls.Presence()["carol"]; p != "online" {
		t.Fatalf("registered carol is %s", p)
	}
	// The dashboard's view of it (adminstate.go).
	if ps := e.bridge.Phones(); len(ps) != 1 || ps[0].User != "carol" || ps[0].Source == "" || !ps[0].Expires.After(time.Now()) {
		t.Fatalf("phones: %+v", ps)
	}
	registered := time.Now()
	testwait.For(t, 5*time.Second, "carol's registration to expire", func() bool { return e.calls.Presence()["carol"] == "offline" })
	t.Logf("registration expired %v after the 200", time.Since(registered).Round(10*time.Millisecond))
	if c := e.bridge.Registered("carol"); len(c) != 0 {
		t.Errorf("carol's contacts after expiry: %q", c)
	}

	bad := testpeer.SippUAC(t, 20*time.Second, e.bridge.Addr(), "-sf", "testdata/register.xml", "-s", "carol",
		"-au", "carol", "-ap", "wrong", "-key", "expires", "60", "-m", "1", "-recv_timeout", "3000")
	if err := bad.Wait(); err == nil {
		t.Fatalf("registering with a wrong password succeeded:\n%s", bad.Output())
	}
	if n := e.bridge.Stats.AuthFailures.Load(); n != 1 {
		t.Errorf("auth failures = %d, want 1", n)
	}
	if c := e.bridge.Registered("carol"); len(c) != 0 {
		t.Errorf("carol's contacts after a wrong password: %q", c)
	}
}
