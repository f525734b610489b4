package account

import (
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Directory is where accounts live when they are kept outside the
// configuration (package store, through internal/app): every check looks
// the user up, so an account added, changed or disabled by `flashvox user`
// counts at once, in every process sharing the directory. Account returns
// an error wrapping ErrNoAccount when there is no such user.
type Directory interface {
	Account(name string) (Account, error)
}

// DirectoryFunc adapts a function to Directory.
type DirectoryFunc func(name string) (Account, error)

// Account calls f.
func (f DirectoryFunc) Account(name string) (Account, error) { return f(name) }

// Revocation is a revoked token as a RevocationLog keeps it: its user,
// its signature in hex (the unique part of a token) and its expiry.
type Revocation struct {
	User, ID string
	Expires  time.Time
}

// RevocationLog keeps revoked tokens beyond the process, until they
// expire; AuthOptions.Revoked hands them back at the next start.
type RevocationLog interface {
	Revoke(Revocation) error
}

// lookup finds user's account: in the Directory when there is one, else
// among the configured accounts. An unknown user is (zero, false, nil).
func (a *Auth) lookup(user string) (account, bool, error) {
	if a.dir == nil {
		acc, ok := a.accounts[user]
		return acc, ok, nil
	}
	if !ValidUserName(user) {
		return account{}, false, nil
	}
	acc, err := a.dir.Account(user)
	switch {
	case errors.Is(err, ErrNoAccount):
		return account{}, false, nil
	case err != nil:
		return account{}, false, fmt.Errorf("%w: %w", ErrDirectory, err)
	}
	return prepare(acc, a.realm), true, nil
}

// restore revokes again what the log kept (NewAuth).
func (a *Auth) restore(revoked []Revocation) {
	now := a.now()
	for _, r := range revoked {
		sig, err := hex.DecodeString(r.ID)
		if err != nil || !r.Expires.After(now) {
			continue
		}
		a.rev.add(now, r.User, string(sig), r.Expires)
	}
}

// errDisabledSession ends the sessions of a disabled account: a
// revocation (clients see token_revoked) that says why.
var errDisabledSession = fmt.Errorf("%w: %w", ErrTokenRevoked, ErrDisabled)

// EndSessions ends at once every session (Watch) of user, as a
// revocation: for an account just disabled.
func (a *Auth) EndSessions(user string) {
	r := &a.rev
	r.mu.Lock()
	defer r.mu.Unlock()
	for w := range r.watches[user] {
		w.end(errDisabledSession)
	}
}

// RecheckSessions looks up in the Directory every user with sessions and
// ends those of the disabled ones (an account disabled by another process,
// `flashvox user disable`); it returns how many users it ended. Without a
// Directory it does nothing.
func (a *Auth) RecheckSessions() int {
	if a.dir == nil {
		return 0
	}
	r := &a.rev
	r.mu.Lock()
	users := make([]string, 0, len(r.watches))
	for u := range r.watches {
		users = append(users, u)
	}
	r.mu.Unlock()
	n := 0
	for _, u := range users {
		if acc, ok, err := a.lookup(u); err == nil && ok && acc.disabled {
			a.EndSessions(u)
			n++
		}
	}
	return n
}
