package sipbridge

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"

	"github.com/icholy/digest"
)

// Digest authentication of SIP phones (RFC 3261 22.4, RFC 2617 MD5 with
// qop=auth) as the configured users, with the users' passwords.

// nonceLifetime is how long a nonce is accepted; after it the phone gets a
// stale challenge and answers it again without asking its user.
const nonceLifetime = 5 * time.Minute

var (
	errNoCredentials  = errors.New("sip: no credentials")
	errBadCredentials = errors.New("sip: wrong user or password")
	errStaleNonce     = errors.New("sip: nonce expired")
)

// digestAuth issues challenges and checks the answers. Nonces are
// stateless: a timestamp and its HMAC under a per-process key, so
// nothing is stored per challenge and a forged or expired nonce is refused.
type digestAuth struct {
	realm string
	users map[string]string // name → password (read-only)
	key   [32]byte
	now   func() time.Time
}

func newDigestAuth(realm string, users map[string]string, now func() time.Time) *digestAuth {
	a := &digestAuth{realm: realm, users: users, now: now}
	rand.Read(a.key[:])
	return a
}

// challenge is the WWW-Authenticate / Proxy-Authenticate value.
func (a *digestAuth) challenge(stale bool) string {
	c := digest.Challenge{Realm: a.realm, Nonce: a.nonce(), Algorithm: "MD5", QOP: []string{"auth"}, Stale: stale}
	return c.String()
}

func (a *digestAuth) nonce() string {
	var b [8 + sha256.Size]byte
	binary.BigEndian.PutUint64(b[:8], uint64(a.now().Unix()))
	m := hmac.New(sha256.New, a.key[:])
	m.Write(b[:8])
	copy(b[8:], m.Sum(nil))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (a *digestAuth) nonceValid(n string) (ok, stale bool) {
	b, err := base64.RawURLEncoding.DecodeString(n)
	if err != nil || len(b) != 8+sha256.Size {
		return false, false
	}
	m := hmac.New(sha256.New, a.key[:])
	m.Write(b[:8])
	if !hmac.Equal(m.Sum(nil), b[8:]) {
		return false, false
	}
	age := a.now().Sub(time.Unix(int64(binary.BigEndian.Uint64(b[:8])), 0))
	return true, age > nonceLifetime || age < -time.Minute
}

// check verifies the Authorization (or Proxy-Authorization) header value
// for a request and returns the authenticated user. The user part of the
// request's From (or To, for REGISTER) must be the user authenticated:
// one account cannot act as another.
func (a *digestAuth) check(header, method, claimed string) (string, error) {
	if header == "" {
		return "", errNoCredentials
	}
	cred, err := digest.ParseCredentials(header)
	if err != nil {
		return "", errBadCredentials
	}
	pass, ok := a.users[cred.Username]
	if !ok || cred.Username != claimed || cred.Realm != a.realm {
		return "", errBadCredentials
	}
	valid, stale := a.nonceValid(cred.Nonce)
	if !valid {
		return "", errBadCredentials
	}
	chal := &digest.Challenge{Realm: a.realm, Nonce: cred.Nonce, Algorithm: cred.Algorithm}
	if cred.QOP != "" {
		if cred.QOP != "auth" {
			return "", errBadCredentials
		}
		chal.QOP = []string{"auth"}
	}
	want, err := digest.Digest(chal, digest.Options{Method: method, URI: cred.URI, Username: cred.Username,
		Password: pass, Cnonce: cred.Cnonce, Count: cred.Nc})
	if err != nil || subtle.ConstantTimeCompare([]byte(want.Response), []byte(cred.Response)) != 1 {
		return "", errBadCredentials
	}
	if stale {
		return "", errStaleNonce
	}
	return cred.Username, nil
}
