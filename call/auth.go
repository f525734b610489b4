package call

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"time"
)

// AuthOptions configure an Auth.
type AuthOptions struct {
	// Users maps user name to password (the config's users list).
	Users map[string]string
	// Secret keys token signatures; empty means a random secret, so tokens
	// die with the process.
	Secret []byte
	// TTL is the lifetime of tokens from Login (default 12h).
	TTL time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Auth checks passwords and issues and verifies tokens. It is immutable
// after NewAuth and safe for concurrent use.
type Auth struct {
	users  map[string]string
	secret []byte
	ttl    time.Duration
	now    func() time.Time
}

// NewAuth builds an Auth.
func NewAuth(o AuthOptions) *Auth {
	a := &Auth{users: map[string]string{}, secret: o.Secret, ttl: o.TTL, now: o.Now}
	for u, p := range o.Users {
		a.users[u] = p
	}
	if len(a.secret) == 0 {
		a.secret = make([]byte, 32)
		rand.Read(a.secret) // never fails (crypto/rand panics on a broken system)
	}
	if a.ttl <= 0 {
		a.ttl = 12 * time.Hour
	}
	if a.now == nil {
		a.now = time.Now
	}
	return a
}

// Password checks a user's password in constant time (for equal lengths).
func (a *Auth) Password(user, password string) error {
	want, ok := a.users[user]
	if !ok || subtle.ConstantTimeCompare([]byte(want), []byte(password)) != 1 {
		return ErrBadCredentials
	}
	return nil
}

// Login checks the password and returns a new token and its expiry.
func (a *Auth) Login(user, password string) (string, time.Time, error) {
	if err := a.Password(user, password); err != nil {
		return "", time.Time{}, err
	}
	exp := a.now().Add(a.ttl).Truncate(time.Second)
	return MintToken(a.secret, user, exp), exp, nil
}

// Verify checks a token's signature and expiry and returns its user. A valid
// token needs no entry in the users list: a site backend may mint tokens for
// its own users.
func (a *Auth) Verify(token string) (string, error) {
	t, err := ParseToken(token)
	if err != nil {
		return "", err
	}
	if !hmac.Equal(t.sig, sign(a.secret, t.signed)) {
		return "", ErrTokenSignature
	}
	if !a.now().Before(t.Expires) {
		return "", fmt.Errorf("%w at %s", ErrTokenExpired, t.Expires.UTC().Format(time.RFC3339))
	}
	return t.User, nil
}
