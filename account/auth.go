package account

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/flashvox/flashvox/internal/passhash"
)

// AuthOptions configure an Auth.
type AuthOptions struct {
	// Users maps user name to a plaintext password (tests, loopback demos).
	Users map[string]string
	// Accounts are the config's users with a password or an argon2id hash.
	Accounts []Account
	// Realm is the SIP digest realm the HA1 values of plaintext passwords
	// are computed for (default "flashvox").
	Realm string
	// Secret keys token signatures; empty means a random secret, so tokens
	// die with the process.
	Secret []byte
	// TTL is the lifetime of tokens from Login (default 12h).
	TTL time.Duration
	// MaxHashing bounds concurrent argon2id computations, so a login
	// flood waits instead of allocating 19 MiB per attempt (default
	// 2×GOMAXPROCS).
	MaxHashing int
	// MaxRevoked bounds the revocation set (default 100000; revoke.go).
	MaxRevoked int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Directory, when set, holds the accounts instead of Users and
	// Accounts (directory.go): every check looks the user up in it.
	Directory Directory
	// Revocations keeps revoked tokens beyond the process; Revoked are
	// those it kept, revoked again at start.
	Revocations RevocationLog
	Revoked     []Revocation
}

// Account is one user's secrets: Password (plaintext) or PasswordHash
// (argon2id PHC string), and the SIP digest HA1 values stored with a hash.
type Account struct {
	Name, Password, PasswordHash string
	HA1, HA1SHA256               string
	// Disabled accounts may not log in, and their tokens are refused
	// (checked with a Directory; configured accounts are never disabled).
	Disabled bool
}

// account is an Account ready to check: a hash that does not parse (config
// validation refuses it) matches no password.
type account struct {
	plain    string
	hash     *passhash.Hash
	disabled bool
	ha1      map[string]string // algorithm -> hex
}

// hashWait is how long a password check waits for a hashing slot before
// answering ErrBusy.
const hashWait = 10 * time.Second

// Auth checks passwords and issues, verifies and revokes tokens. Configured
// accounts are immutable after NewAuth (a Directory's change under it);
// the revocation set has its own lock. Safe for concurrent use.
type Auth struct {
	accounts map[string]account
	secret   []byte
	ttl      time.Duration
	now      func() time.Time
	sem      chan struct{} // one slot per argon2id computation running
	hashWait time.Duration
	// dummy is verified for unknown users when any account is hashed, so
	// a user's existence does not show in the answer's time.
	dummy *passhash.Hash
	rev   revocations
	// dir holds the accounts when set (accounts is then empty); realm is
	// what HA1s of its plaintext passwords would be computed for.
	dir    Directory
	realm  string
	revLog RevocationLog

	// lastExp is the expiry of each user's last token from Login: tokens
	// have no nonce, so two logins in one second would get the same token
	// (and a logout would end both); each login gets a later second.
	mu      sync.Mutex
	lastExp map[string]time.Time

	inflight inflight // running password checks per address (guard.go)
}

// NewAuth builds an Auth.
func NewAuth(o AuthOptions) *Auth {
	a := &Auth{accounts: map[string]account{}, secret: o.Secret, ttl: o.TTL, now: o.Now, hashWait: hashWait, lastExp: map[string]time.Time{}}
	if o.Realm == "" {
		o.Realm = "flashvox"
	}
	for u, p := range o.Users {
		o.Accounts = append(o.Accounts, Account{Name: u, Password: p})
	}
	hashed := o.Directory != nil // a directory's accounts are hashed
	for _, acc := range o.Accounts {
		ac := prepare(acc, o.Realm)
		hashed = hashed || ac.hash != nil
		a.accounts[acc.Name] = ac
	}
	if hashed {
		pw := make([]byte, 16)
		rand.Read(pw)
		d := passhash.New(string(pw), passhash.Default)
		a.dummy = &d
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
	if o.MaxHashing <= 0 {
		o.MaxHashing = 2 * runtime.GOMAXPROCS(0)
	}
	a.sem = make(chan struct{}, o.MaxHashing)
	a.rev.init(o.MaxRevoked)
	a.dir, a.realm, a.revLog = o.Directory, o.Realm, o.Revocations
	a.restore(o.Revoked)
	return a
}

// prepare makes an Account ready to check: a hash that does not parse
// (config validation refuses it) matches no password; a plaintext
// password's HA1s are computed for realm.
func prepare(acc Account, realm string) account {
	ac := account{plain: acc.Password, disabled: acc.Disabled, ha1: map[string]string{}}
	if acc.PasswordHash != "" {
		h, err := passhash.Parse(acc.PasswordHash)
		if err != nil {
			ac.disabled = true
		} else {
			ac.hash = &h
		}
		for alg, v := range map[string]string{passhash.MD5: acc.HA1, passhash.SHA256: acc.HA1SHA256} {
			if passhash.ValidHA1(alg, v) {
				ac.ha1[alg] = v
			}
		}
	} else if !acc.Disabled {
		for _, alg := range []string{passhash.MD5, passhash.SHA256} {
			ac.ha1[alg], _ = passhash.HA1(alg, acc.Name, realm, acc.Password)
		}
	}
	return ac
}

// Password checks a user's password: against its argon2id hash (at most
// MaxHashing at a time; ErrBusy after waiting 10 s for a slot), or its
// plaintext in constant time (for equal lengths).
func (a *Auth) Password(user, password string) error {
	acc, ok, err := a.lookup(user)
	switch {
	case err != nil:
		return err
	case ok && acc.hash != nil:
		if err := a.verifyHash(acc.hash, password); err != nil || !acc.disabled {
			return err
		}
		return ErrDisabled // said only to whom knows the password
	case ok && !acc.disabled && acc.plain != "":
		if subtle.ConstantTimeCompare([]byte(acc.plain), []byte(password)) == 1 {
			return nil
		}
	case !ok && a.dummy != nil:
		if err := a.verifyHash(a.dummy, password); err == ErrBusy {
			return err
		}
	}
	return ErrBadCredentials
}

func (a *Auth) verifyHash(h *passhash.Hash, password string) error {
	t := time.NewTimer(a.hashWait)
	defer t.Stop()
	select {
	case a.sem <- struct{}{}:
	case <-t.C:
		return ErrBusy
	}
	ok := h.Verify(password)
	<-a.sem
	if !ok {
		return ErrBadCredentials
	}
	return nil
}

// HA1 is user's SIP digest HA1 for algorithm ("MD5" or "SHA-256") in
// lower-case hex: configured beside a password hash, or computed at start
// from a plaintext password and the realm. ok is false for an unknown
// user, an unknown algorithm, or a hashed user configured without it.
func (a *Auth) HA1(user, algorithm string) (string, bool) {
	acc, ok, err := a.lookup(user)
	if err != nil || !ok || acc.disabled {
		return "", false
	}
	h, ok := acc.ha1[algorithm]
	return h, ok
}

// Login checks the password and returns a new token and its expiry. Each
// login gets a token of its own, so revoking one ends no other: a second
// login within the same second expires a second later.
func (a *Auth) Login(user, password string) (string, time.Time, error) {
	if err := a.Password(user, password); err != nil {
		return "", time.Time{}, err
	}
	exp := a.now().Add(a.ttl).Truncate(time.Second)
	a.mu.Lock()
	if last := a.lastExp[user]; !exp.After(last) {
		exp = last.Add(time.Second)
	}
	a.lastExp[user] = exp // one entry per account: Login succeeds for listed users only
	a.mu.Unlock()
	return MintToken(a.secret, user, exp), exp, nil
}

// Verify checks a token's signature, expiry and revocation and returns its
// user. A valid token needs no entry in the users list: a site backend may
// mint tokens for its own users.
func (a *Auth) Verify(token string) (string, error) {
	t, err := a.verify(token)
	return t.User, err
}

func (a *Auth) verify(token string) (Token, error) {
	t, err := ParseToken(token)
	if err != nil {
		return Token{}, err
	}
	if !hmac.Equal(t.sig, sign(a.secret, t.signed)) {
		return Token{}, ErrTokenSignature
	}
	if !a.now().Before(t.Expires) {
		return Token{}, fmt.Errorf("%w at %s", ErrTokenExpired, t.Expires.UTC().Format(time.RFC3339))
	}
	if a.rev.revoked(t.User, string(t.sig), t.Expires) {
		return Token{}, ErrTokenRevoked
	}
	if a.dir != nil { // a disabled account's tokens end with it
		acc, ok, err := a.lookup(t.User)
		if err != nil {
			return Token{}, err
		}
		if ok && acc.disabled {
			return Token{}, ErrDisabled
		}
	}
	return t, nil
}
