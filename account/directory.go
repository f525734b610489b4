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
