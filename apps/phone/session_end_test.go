package phone_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/apps/phone"
	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/internal/test/teststack"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/rtmp"
	"github.com/flashvox/flashvox/session"
	"github.com/flashvox/flashvox/throttle"
)

// startAuthStack is startStack with auth options and a guard.
func startAuthStack(t *testing.T, o account.AuthOptions, guard account.Guard) *stack {
	t.Helper()
	o.Users, o.Secret = map[string]string{"alice": "alice", "bob": "bob"}, secret
	auth := account.NewAuth(o)
	calls := call.NewService(call.Options{RingTimeout: time.Minute}, "alice", "bob")
	t.Cleanup(calls.Close)
	ts := teststack.Start(t, teststack.Options{Apps: map[string]session.App{
		phone.Name: &phone.App{Calls: calls, Auth: auth, Guard: guard},
	}})
	return &stack{addr: ts.Addr, calls: calls, auth: auth, hub: ts.Hub}
}

// expectEnd waits for the server to close p's connection after an
// onSessionEnd with reason, within d.
func (p *testPhone) expectEnd(reason string, d time.Duration) {
	p.t.Helper()
	timeout := time.After(d)
	var ended bool
	for {
		select {
		case o := <-p.events:
			if o.GetString("method") == "onSessionEnd" {
				if o.GetString("reason") != reason {
					p.t.Fatalf("onSessionEnd %v, want reason %s", o, reason)
				}
				ended = true
			}
		case <-p.c.Done():
			if !ended { // the invoke is queued before the close: it arrives first
				select {
				case o := <-p.events:
					ended = o.GetString("method") == "onSessionEnd" && o.GetString("reason") == reason
				default:
				}
			}
			if !ended {
				p.t.Fatalf("closed without onSessionEnd(%s)", reason)
			}
			return
		case <-timeout:
			p.t.Fatalf("connection still open %s later (want it closed: %s)", d, reason)
		}
	}
}

// TestSessionEndsAtTokenExpiry: a phone connected with a token is
// disconnected at its expiry, not at its next request; one connected with
// a password lives auth.token_ttl.
func TestSessionEndsAtTokenExpiry(t *testing.T) {
	st := startAuthStack(t, account.AuthOptions{TTL: 2 * time.Second}, nil)
	exp := time.Now().Add(2 * time.Second)
	tok := account.MintToken(secret, "alice", exp) // Unix seconds: expires in 1..2 s
	byToken := mustDial(t, st, "alice", tok)
	byPassword := mustDial(t, st, "bob", "bob")
	byToken.expectEnd("token_expired", 5*time.Second)
	if late := time.Since(exp.Truncate(time.Second)); late < 0 || late > time.Second {
		t.Fatalf("closed %s after the token's expiry", late)
	}
	byPassword.expectEnd("token_expired", 5*time.Second)
	if _, err := byToken.c.Call(t.Context(), "invite", "bob"); err == nil {
		t.Fatal("a call on the closed connection succeeded")
	}
	// The server stops a session's watch when it has finished closing the
	// connection, which may be just after the client saw the close.
	testwait.For(t, 5*time.Second, "no watches left after the sessions ended", func() bool { return st.auth.Watching() == 0 })
}

// TestSessionEndsAtRevocation: revoking the token (DELETE /api/v1/session
// does this) disconnects every phone connected with it at once; another
// token's session stays.
func TestSessionEndsAtRevocation(t *testing.T) {
	st := startAuthStack(t, account.AuthOptions{}, nil)
	tok := account.MintToken(secret, "alice", time.Now().Add(time.Hour))
	other := account.MintToken(secret, "alice", time.Now().Add(2*time.Hour))
	a1, a2 := mustDial(t, st, "alice", tok), mustDial(t, st, "alice", other)
	start := time.Now()
	if err := st.auth.Revoke(tok); err != nil {
		t.Fatal(err)
	}
	a1.expectEnd("token_revoked", 2*time.Second)
	t.Logf("closed %s after the revocation", time.Since(start).Round(time.Millisecond))
	if _, err := a2.call("invite", "bob"); err != nil {
		t.Fatalf("the other session: %v", err)
	}
	if _, err := dial(t, st, "alice", tok); err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("connect with a revoked token: %v", err)
	}
}

// TestConnectThrottled: after the free failures a connect is rejected with
// when to retry, even with the right password.
func TestConnectThrottled(t *testing.T) {
	st := startAuthStack(t, account.AuthOptions{}, throttle.New(throttle.Options{FreeFailures: 2, BaseDelay: 20 * time.Second}))
	for i := range 3 {
		if _, err := dial(t, st, "alice", "guess"); err == nil || !strings.Contains(err.Error(), "wrong user or password") {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	_, err := dial(t, st, "alice", "alice")
	var ce *rtmp.CallError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "NetConnection.Connect.Rejected") || !strings.Contains(err.Error(), "retry in 20 s") {
		t.Fatalf("throttled connect: %v", err)
	}
	t.Log(err)
}
