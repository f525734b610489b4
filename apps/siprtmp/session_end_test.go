package siprtmp_test

import (
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/apps/siprtmp"
	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/internal/test/teststack"
	"github.com/flashvox/flashvox/session"
	"github.com/flashvox/flashvox/throttle"
)

// TestSipConnectThrottledAndSessionEnd: the sip app's connect is slowed
// like the phone app's, and its session ends at the token's revocation.
func TestSipConnectThrottledAndSessionEnd(t *testing.T) {
	calls := call.NewService(call.Options{RingTimeout: time.Minute}, "alice", "bob")
	t.Cleanup(calls.Close)
	auth := account.NewAuth(account.AuthOptions{Users: map[string]string{"alice": "alice", "bob": "bob"}, Secret: secret})
	guard := throttle.New(throttle.Options{FreeFailures: 1, BaseDelay: 10 * time.Second})
	ts := teststack.Start(t, teststack.Options{Apps: map[string]session.App{
		siprtmp.Name: &siprtmp.App{Calls: calls, Auth: auth, Guard: guard},
	}})
	st := &stack{addr: ts.Addr, calls: calls}

	tok := account.MintToken(secret, "bob", time.Now().Add(time.Hour))
	sc, err := dialSip(t, st, "bob@127.0.0.1", "bob", tok)
	if err != nil {
		t.Fatal(err)
	}
	if err := auth.Revoke(tok); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sc.c.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("the sip session outlived its revoked token")
	}

	for range 2 {
		if _, err := dialSip(t, st, "alice@127.0.0.1", "alice", "guess"); err == nil || !strings.Contains(err.Error(), "wrong user or password") {
			t.Fatalf("guess: %v", err)
		}
	}
	if _, err := dialSip(t, st, "alice@127.0.0.1", "alice", "alice"); err == nil || !strings.Contains(err.Error(), "retry in 10 s") {
		t.Fatalf("throttled connect: %v", err)
	}
}
