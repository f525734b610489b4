package account

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestRevoke(t *testing.T) {
	secret := []byte("0123456789abcdef")
	a := NewAuth(AuthOptions{Users: map[string]string{"alice": "alice"}, Secret: secret})
	t1, _, _ := a.Login("alice", "alice")
	site := MintToken(secret, "siteuser", time.Now().Add(time.Hour)) // minted by a site backend
	t2 := MintToken(secret, "alice", time.Now().Add(2*time.Hour))
	for _, tok := range []string{t1, site} {
		if err := a.Revoke(tok); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Verify(tok); !errors.Is(err, ErrTokenRevoked) {
			t.Fatalf("revoked token verifies: %v", err)
		}
		if _, err := a.Watch(tok); !errors.Is(err, ErrTokenRevoked) {
			t.Fatalf("revoked token watched: %v", err)
		}
		if err := a.Revoke(tok); err != nil {
			t.Fatalf("second revoke: %v", err)
		}
	}
	if u, err := a.Verify(t2); err != nil || u != "alice" {
		t.Fatalf("another token of the user is still valid: %q %v", u, err)
	}
	if err := a.Revoke(MintToken(secret, "alice", time.Now().Add(-time.Second))); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("revoke of an expired token: %v", err)
	}
	if err := a.Revoke(MintToken([]byte("another-secret-xx"), "alice", time.Now().Add(time.Hour))); !errors.Is(err, ErrTokenSignature) {
		t.Fatalf("revoke of a forged token: %v", err)
	}
}

func waitDone(t *testing.T, w *Watch, within time.Duration) {
	t.Helper()
	select {
	case <-w.Done():
	case <-time.After(within):
		t.Fatalf("watch of %s (expires %s) not ended within %s", w.User(), w.Expires().Format(time.RFC3339), within)
	}
}

func TestWatchEndsAtExpiryAndRevocation(t *testing.T) {
	secret := []byte("0123456789abcdef")
	a := NewAuth(AuthOptions{Secret: secret})
	short := MintToken(secret, "alice", time.Now().Add(1500*time.Millisecond)) // expires in 0.5..1.5 s
	long := MintToken(secret, "alice", time.Now().Add(time.Hour))
	other := MintToken(secret, "bob", time.Now().Add(time.Hour))
	ws, err := a.Watch(short)
	if err != nil {
		t.Fatal(err)
	}
	wl, _ := a.Watch(long)
	wo, _ := a.Watch(other)
	if wl.Err() != nil {
		t.Fatal("a live watch has an error")
	}
	waitDone(t, ws, 5*time.Second)
	if !errors.Is(ws.Err(), ErrTokenExpired) || time.Now().Before(ws.Expires()) {
		t.Fatalf("ended early or for the wrong reason: %v at %s, expiry %s", ws.Err(), time.Now(), ws.Expires())
	}
	if err := a.Revoke(long); err != nil {
		t.Fatal(err)
	}
	waitDone(t, wl, time.Second) // at once, not at the next check
	if !errors.Is(wl.Err(), ErrTokenRevoked) {
		t.Fatalf("revoked watch: %v", wl.Err())
	}
	select {
	case <-wo.Done():
		t.Fatal("another user's watch ended")
	default:
	}
	for _, w := range []*Watch{ws, wl, wo, wo} {
		w.Stop()
	}
	if n := len(a.rev.watches); n != 0 {
		t.Fatalf("%d users still watched after Stop", n)
	}
}

// TestRevocationsAreBounded: a user's many revocations collapse into one
// cutoff, a full set collapses the next user, full cutoffs fall back to a
// global one; every revoked token stays refused, a newer token stays
// valid, and expired entries are pruned.
func TestRevocationsAreBounded(t *testing.T) {
	secret := []byte("0123456789abcdef")
	now := time.Unix(1_700_000_000, 0)
	a := NewAuth(AuthOptions{Secret: secret, MaxRevoked: 8, Now: func() time.Time { return now }})
	var revoked []string
	tok := func(user string, i int) string {
		return MintToken(secret, user, now.Add(time.Hour+time.Duration(i)*time.Second))
	}
	for i := range perUserRevoked + 5 {
		a.rev.max = 1 << 20 // the per-user bound first
		tk := tok("alice", i)
		if err := a.Revoke(tk); err != nil {
			t.Fatal(err)
		}
		revoked = append(revoked, tk)
	}
	if len(a.rev.tokens["alice"]) > perUserRevoked || a.rev.cutoff["alice"].IsZero() {
		t.Fatalf("alice: %d entries, cutoff %v", len(a.rev.tokens["alice"]), a.rev.cutoff["alice"])
	}
	a.rev.max = 8
	for i := range 40 {
		tk := tok(fmt.Sprintf("u%d", i), i)
		if err := a.Revoke(tk); err != nil {
			t.Fatal(err)
		}
		revoked = append(revoked, tk)
		if a.rev.n > 8 || len(a.rev.cutoff) > 8 {
			t.Fatalf("after %d: %d entries, %d cutoffs", i, a.rev.n, len(a.rev.cutoff))
		}
	}
	if a.rev.all.IsZero() {
		t.Fatal("full cutoffs did not fall back to the global cutoff")
	}
	for _, tk := range revoked {
		if _, err := a.Verify(tk); !errors.Is(err, ErrTokenRevoked) {
			t.Fatalf("%s: revoked token verifies: %v", tk, err)
		}
	}
	if _, err := a.Verify(tok("alice", 7200)); err != nil {
		t.Fatalf("a newer token is refused: %v", err)
	}
	now = now.Add(4 * time.Hour) // every revoked token has expired
	if err := a.Revoke(MintToken(secret, "bob", now.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if a.rev.n != 1 || len(a.rev.cutoff) != 0 {
		t.Fatalf("not pruned: %d entries, %d cutoffs", a.rev.n, len(a.rev.cutoff))
	}
}

// TestLoginsGetDistinctTokens: tokens carry no nonce, so logins in one
// second get later expiries; revoking one login ends no other.
func TestLoginsGetDistinctTokens(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	a := NewAuth(AuthOptions{Users: map[string]string{"alice": "alice"}, TTL: time.Hour, Now: func() time.Time { return now }})
	seen := map[string]bool{}
	var toks []string
	for range 5 {
		tok, _, err := a.Login("alice", "alice")
		if err != nil || seen[tok] {
			t.Fatalf("login: %v, repeated %v", err, seen[tok])
		}
		seen[tok] = true
		toks = append(toks, tok)
	}
	if err := a.Revoke(toks[2]); err != nil {
		t.Fatal(err)
	}
	for i, tok := range toks {
		if _, err := a.Verify(tok); (i == 2) != errors.Is(err, ErrTokenRevoked) {
			t.Fatalf("token %d: %v", i, err)
		}
	}
}
