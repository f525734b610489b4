package account

import (
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Revocation (logout) and the end of sessions with their token.
//
// A revoked token is remembered by its signature until it expires, when
// Verify refuses it anyway. Memory is bounded: the set holds at most
// MaxRevoked tokens and perUserRevoked per user, expired entries are
// pruned (every minute, and whenever the set is full), and beyond the
// bounds a revocation degrades to a coarser one that is never weaker: a
// user's entries collapse into one cutoff, "every token of this user that
// expires no later than T" (which also ends the user's older sessions,
// since tokens of one TTL expire in the order they were issued); when the
// cutoffs are full too, one global cutoff ends every such token.

// perUserRevoked bounds one user's revoked tokens before they collapse.
const perUserRevoked = 64

// pruneEvery is how often Revoke drops expired entries.
const pruneEvery = time.Minute

type revocations struct {
	mu      sync.Mutex
	max     int
	tokens  map[string]map[string]time.Time // user -> signature -> expiry
	n       int                             // entries in tokens
	cutoff  map[string]time.Time            // user -> tokens expiring at or before are revoked
	all     time.Time                       // every token expiring at or before is revoked
	watches map[string]map[*Watch]struct{}  // user -> live watches
	pruned  time.Time
}

func (r *revocations) init(max int) {
	if max <= 0 {
		max = 100000
	}
	r.max = max
	r.tokens = map[string]map[string]time.Time{}
	r.cutoff = map[string]time.Time{}
	r.watches = map[string]map[*Watch]struct{}{}
}

func (r *revocations) revoked(user, sig string, exp time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.revokedLocked(user, sig, exp)
}

func (r *revocations) revokedLocked(user, sig string, exp time.Time) bool {
	if !exp.After(r.all) || !exp.After(r.cutoff[user]) {
		return true
	}
	_, ok := r.tokens[user][sig]
	return ok
}

// add revokes one token and ends the watches it covers.
func (r *revocations) add(now time.Time, user, sig string, exp time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n >= r.max || now.Sub(r.pruned) >= pruneEvery {
		r.prune(now)
	}
	global := false
	if toks := r.tokens[user]; len(toks) >= perUserRevoked || r.n >= r.max {
		// Collapse the user's entries (and this token) into one cutoff.
		c := later(exp, r.cutoff[user])
		for _, e := range toks {
			c = later(c, e)
		}
		r.n -= len(toks)
		delete(r.tokens, user)
		if _, had := r.cutoff[user]; !had && len(r.cutoff) >= r.max {
			r.all, global = later(r.all, c), true
		} else {
			r.cutoff[user] = c
		}
	} else {
		if toks == nil {
			toks = map[string]time.Time{}
			r.tokens[user] = toks
		}
		toks[sig] = exp
		r.n++
	}
	for u, ws := range r.watches {
		if u != user && !global {
			continue
		}
		for w := range ws {
			if r.revokedLocked(w.user, w.sig, w.exp) {
				w.end(ErrTokenRevoked)
			}
		}
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// prune drops what has expired (Verify refuses it as expired).
func (r *revocations) prune(now time.Time) {
	r.pruned = now
	for u, toks := range r.tokens {
		for sig, exp := range toks {
			if !exp.After(now) {
				delete(toks, sig)
				r.n--
			}
		}
		if len(toks) == 0 {
			delete(r.tokens, u)
		}
	}
	for u, c := range r.cutoff {
		if !c.After(now) {
			delete(r.cutoff, u)
		}
	}
}

// Revoke ends token (logout): Verify and Watch refuse it from now on and
// every Watch of it ends. A token already revoked is not an error; an
// invalid or expired one is.
func (a *Auth) Revoke(token string) error {
	t, err := a.verify(token)
	if errors.Is(err, ErrTokenRevoked) {
		return nil
	}
	if err != nil {
		return err
	}
	a.rev.add(a.now(), t.User, string(t.sig), t.Expires)
	if a.revLog != nil {
		if err := a.revLog.Revoke(Revocation{User: t.User, ID: hex.EncodeToString(t.sig), Expires: t.Expires}); err != nil {
			return fmt.Errorf("revoked until restart only: %w", err)
		}
	}
	return nil
}

// Watch follows a session authorised by one token: Done is closed when the
// token expires or is revoked, and Err then says which. Stop releases it
// (its timer and its place in the Auth) when the session ends first.
type Watch struct {
	auth      *Auth
	user, sig string
	exp       time.Time
	timer     *time.Timer
	done      chan struct{}
	once      sync.Once
	err       error // set before done is closed
}

// Watch verifies token and returns a Watch of it.
func (a *Auth) Watch(token string) (*Watch, error) {
	t, err := a.verify(token)
	if err != nil {
		return nil, err
	}
	w := &Watch{auth: a, user: t.User, sig: string(t.sig), exp: t.Expires, done: make(chan struct{})}
	r := &a.rev
	r.mu.Lock()
	if r.revokedLocked(w.user, w.sig, w.exp) { // revoked since verify
		r.mu.Unlock()
		return nil, ErrTokenRevoked
	}
	ws := r.watches[w.user]
	if ws == nil {
		ws = map[*Watch]struct{}{}
		r.watches[w.user] = ws
	}
	ws[w] = struct{}{}
	r.mu.Unlock()
	expired := fmt.Errorf("%w at %s", ErrTokenExpired, w.exp.UTC().Format(time.RFC3339))
	w.timer = time.AfterFunc(w.exp.Sub(a.now()), func() { w.end(expired) })
	return w, nil
}

// end closes done once with err.
func (w *Watch) end(err error) {
	w.once.Do(func() {
		w.err = err
		close(w.done)
	})
}

// Done is closed at the token's expiry or revocation.
func (w *Watch) Done() <-chan struct{} { return w.done }

// Err is nil until Done is closed, then wraps ErrTokenExpired or is
// ErrTokenRevoked.
func (w *Watch) Err() error {
	select {
	case <-w.done:
		return w.err
	default:
		return nil
	}
}

// User is the token's user.
func (w *Watch) User() string { return w.user }

// Expires is the token's expiry.
func (w *Watch) Expires() time.Time { return w.exp }

// Stop releases the Watch; Done stays open unless it has ended already.
// Safe to call more than once.
func (w *Watch) Stop() {
	if w.timer != nil {
		w.timer.Stop()
	}
	r := &w.auth.rev
	r.mu.Lock()
	if ws := r.watches[w.user]; ws != nil {
		delete(ws, w)
		if len(ws) == 0 {
			delete(r.watches, w.user)
		}
	}
	r.mu.Unlock()
}

// Watching counts the live Watches (sessions followed to their token's end).
func (a *Auth) Watching() int {
	r := &a.rev
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, ws := range r.watches {
		n += len(ws)
	}
	return n
}
