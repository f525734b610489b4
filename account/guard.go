package account

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/flashvox/flashvox/throttle"
)

// Guard slows the guessing of secrets (package throttle's Throttle): Check
// before a credential check (a wait refuses it without computing
// anything), then Fail or Succeed.
type Guard interface {
	Check(addr, account string) time.Duration
	Fail(addr, account string)
	Succeed(addr, account string)
}

// RetryError refuses a credential check the Guard slowed; errors.Is
// matches ErrThrottled.
type RetryError struct {
	After time.Duration // how long the client must wait
}

// Seconds is After rounded up to whole seconds (at least 1), as
// Retry-After carries it.
func (e *RetryError) Seconds() int {
	return max(1, int(math.Ceil(e.After.Seconds())))
}

func (e *RetryError) Error() string {
	return fmt.Sprintf("%v; retry in %d s", ErrThrottled, e.Seconds())
}

// Is makes errors.Is(err, ErrThrottled) true.
func (e *RetryError) Is(target error) bool { return target == ErrThrottled }

// Attempt is what a client presents to connect: its user and a token or a
// password.
type Attempt struct {
	User, Token, Password string
}

// LoginFrom is Login for a client at addr, slowed by g (nil: not slowed).
func (a *Auth) LoginFrom(g Guard, addr, user, password string) (string, time.Time, error) {
	if err := check(g, addr, user); err != nil {
		return "", time.Time{}, err
	}
	done, err := a.inflight.begin(g, addr)
	if err != nil {
		return "", time.Time{}, err
	}
	defer done()
	tok, exp, err := a.Login(user, password)
	report(g, addr, user, err, true)
	return tok, exp, err
}

// VerifyFrom is Verify for a client at addr, slowed by g (nil: not
// slowed). The account counted is the user the token names.
func (a *Auth) VerifyFrom(g Guard, addr, token string) (string, error) {
	claimed := claimedUser(token)
	if err := check(g, addr, claimed); err != nil {
		return "", err
	}
	user, err := a.Verify(token)
	report(g, addr, claimed, err, false)
	return user, err
}

// Authenticate checks a connect from addr, slowed by g (nil: not slowed),
// and returns the Watch of the session it opens: the token's lifetime, or
// for a password that of a new token (auth.token_ttl). The caller Stops it
// when the session ends.
func (a *Auth) Authenticate(g Guard, addr string, at Attempt) (*Watch, error) {
	if err := check(g, addr, at.User); err != nil {
		return nil, err
	}
	tok := at.Token
	var err error
	if tok == "" {
		done, ierr := a.inflight.begin(g, addr)
		if ierr != nil {
			return nil, ierr
		}
		tok, _, err = a.Login(at.User, at.Password)
		done()
	}
	var w *Watch
	if err == nil {
		w, err = a.Watch(tok)
	}
	if err == nil && w.User() != at.User {
		w.Stop()
		w, err = nil, ErrTokenUser
	}
	report(g, addr, at.User, err, at.Token == "")
	return w, err
}

// maxInFlight bounds the password checks one address may have running at
// once. The guard counts failures only once a check has ended, so without
// this bound an attacker opening many connections at once would get them
// all checked before its first failure was counted.
const maxInFlight = 2

// inflight counts running password checks per address (throttle.Key).
type inflight struct {
	mu sync.Mutex
	n  map[string]int
}

// begin takes one of addr's slots, or refuses with a 1 s retry; done
// gives it back. Without a guard nothing is counted.
func (f *inflight) begin(g Guard, addr string) (done func(), err error) {
	if g == nil {
		return func() {}, nil
	}
	k := throttle.Key(addr)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n[k] >= maxInFlight {
		return nil, &RetryError{After: time.Second}
	}
	if f.n == nil {
		f.n = map[string]int{}
	}
	f.n[k]++
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.n[k]--; f.n[k] <= 0 {
			delete(f.n, k)
		}
	}, nil
}

func check(g Guard, addr, account string) error {
	if g == nil {
		return nil
	}
	if d := g.Check(addr, account); d > 0 {
		return &RetryError{After: d}
	}
	return nil
}

// report tells g the outcome. Only guesses count as failures: a token that
// expired or was revoked was genuine (so was a disabled account's right
// password), and a busy server or a directory down checked nothing.
// Only a right password clears the address (clear): a token proves nothing
// about passwords, and an attacker holding one for its own account must
// not reset its back-off with it between guesses.
func report(g Guard, addr, account string, err error, clear bool) {
	switch {
	case g == nil, errors.Is(err, ErrBusy), errors.Is(err, ErrDirectory), errors.Is(err, ErrDisabled), errors.Is(err, ErrTokenExpired), errors.Is(err, ErrTokenRevoked):
	case err == nil:
		if clear {
			g.Succeed(addr, account)
		}
	default:
		g.Fail(addr, account)
	}
}

// claimedUser is the user a token names, unverified ("" if malformed).
func claimedUser(token string) string {
	t, err := ParseToken(token)
	if err != nil {
		return ""
	}
	return t.User
}
