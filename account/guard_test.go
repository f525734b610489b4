package account_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/throttle"
)

func TestAuthenticateIsThrottled(t *testing.T) {
	secret := []byte("0123456789abcdef")
	now := time.Now()
	g := throttle.New(throttle.Options{FreeFailures: 3, BaseDelay: time.Minute, Now: func() time.Time { return now }})
	a := account.NewAuth(account.AuthOptions{Users: map[string]string{"alice": "alice-pw", "bob": "bob-pw"}, Secret: secret})
	const attacker, real = "192.0.2.66:4000", "198.51.100.7:5000"
	for i := range 4 { // 3 free failures, the 4th starts the back-off
		if _, err := a.Authenticate(g, attacker, account.Attempt{User: "alice", Password: "guess"}); !errors.Is(err, account.ErrBadCredentials) {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	_, err := a.Authenticate(g, attacker, account.Attempt{User: "alice", Password: "alice-pw"})
	var re *account.RetryError
	if !errors.As(err, &re) || !errors.Is(err, account.ErrThrottled) || re.Seconds() != 60 {
		t.Fatalf("5th try, even with the right password, must be refused: %v", err)
	}
	if _, _, err := a.LoginFrom(g, attacker, "alice", "alice-pw"); !errors.Is(err, account.ErrThrottled) {
		t.Fatalf("HTTP login from the same address: %v", err)
	}
	w, err := a.Authenticate(g, real, account.Attempt{User: "alice", Password: "alice-pw"})
	if err != nil {
		t.Fatalf("the real user from another address: %v", err)
	}
	if d := w.Expires().Sub(now); d < 11*time.Hour || d > 13*time.Hour {
		t.Fatalf("a password session lives auth.token_ttl (12h), got %s", d)
	}
	w.Stop()

	// Expired and revoked tokens are genuine, not guesses: they fail
	// without counting; a forged one counts.
	expired := account.MintToken(secret, "bob", now.Add(-time.Minute))
	for range 10 {
		if _, err := a.Authenticate(g, real, account.Attempt{User: "bob", Token: expired}); !errors.Is(err, account.ErrTokenExpired) {
			t.Fatalf("expired: %v", err)
		}
		if _, err := a.VerifyFrom(g, real, expired); !errors.Is(err, account.ErrTokenExpired) {
			t.Fatalf("expired: %v", err)
		}
	}
	good := account.MintToken(secret, "bob", now.Add(time.Hour))
	if _, err := a.Authenticate(g, real, account.Attempt{User: "alice", Token: good}); !errors.Is(err, account.ErrTokenUser) {
		t.Fatalf("bob's token for alice: %v", err)
	}
	if u, err := a.VerifyFrom(g, real, good); err != nil || u != "bob" {
		t.Fatalf("verify: %q %v", u, err)
	}
	forged := account.MintToken([]byte("another-secret-xx"), "bob", now.Add(time.Hour))
	for range 4 {
		a.VerifyFrom(g, "203.0.113.9:1", forged)
	}
	if _, err := a.VerifyFrom(g, "203.0.113.9:1", good); !errors.Is(err, account.ErrThrottled) {
		t.Fatalf("forged tokens are guesses: %v", err)
	}
}

// TestTokenDoesNotResetBackoff: an attacker with a valid token of its own
// account cannot clear its address's back-off by using the token between
// password guesses on other accounts.
func TestTokenDoesNotResetBackoff(t *testing.T) {
	secret := []byte("0123456789abcdef")
	g := throttle.New(throttle.Options{FreeFailures: 3, BaseDelay: time.Minute})
	a := account.NewAuth(account.AuthOptions{Users: map[string]string{"mallory": "m-pw", "alice": "a", "bob": "b", "carol": "c"}, Secret: secret})
	const addr = "192.0.2.66:4000"
	own := account.MintToken(secret, "mallory", time.Now().Add(time.Hour))
	refused := false
	for _, victim := range []string{"alice", "bob", "carol", "alice", "bob"} {
		if _, err := a.VerifyFrom(g, addr, own); err != nil && !errors.Is(err, account.ErrThrottled) {
			t.Fatal(err)
		}
		if _, _, err := a.LoginFrom(g, addr, victim, "guess"); errors.Is(err, account.ErrThrottled) {
			refused = true
			break
		}
	}
	if !refused {
		t.Fatal("5 guesses on 3 accounts with a token check between each were all checked")
	}
}

// TestConcurrentGuessesAreBounded: guesses sent all at once from one
// address are not all checked before the first failure is counted: at
// most 2 run at a time, the rest are refused with a retry.
func TestConcurrentGuessesAreBounded(t *testing.T) {
	g := throttle.New(throttle.Options{BaseDelay: time.Minute})
	a := account.NewAuth(account.AuthOptions{Accounts: []account.Account{{Name: "alice", PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$gy5SuVm5Z7Vw7keB9se9p87QGcomaseB/S2U1OhTsM0"}}})
	var wg sync.WaitGroup
	var checked, refused atomic.Int32
	for i := range 32 {
		wg.Go(func() {
			_, _, err := a.LoginFrom(g, "192.0.2.66:1", "alice", fmt.Sprint("guess-", i))
			switch {
			case errors.Is(err, account.ErrBadCredentials):
				checked.Add(1)
			case errors.Is(err, account.ErrThrottled):
				refused.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	t.Logf("32 concurrent guesses: %d checked, %d refused", checked.Load(), refused.Load())
	if checked.Load() > 8 {
		t.Fatalf("%d of 32 concurrent guesses were checked", checked.Load())
	}
	// Another address is not affected.
	if _, _, err := a.LoginFrom(g, "198.51.100.7:1", "alice", "correct horse battery staple"); err != nil {
		t.Fatal(err)
	}
}
