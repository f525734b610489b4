package sipbridge

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"hash"
	"strings"
	"sync"
	"time"

	"github.com/icholy/digest"

	"github.com/flashvox/flashvox/throttle"
)

// Digest authentication of SIP phones (RFC 3261 22.4 with RFC 7616:
// qop=auth, MD5 and SHA-256) as the configured users. The bridge never
// sees a password: it verifies responses from each user's HA1 =
// H(user:realm:password), given by Credentials.
//
// What a captured header is worth (docs/SECURITY.md): nothing on
// another request (the credentials' uri must be the Request-URI), nothing
// from another address (the nonce carries an HMAC of the client's IP),
// nothing twice (the nonce-count must rise on every use of a nonce) and
// nothing after NonceLifetime (stale=true: the phone answers a fresh
// challenge without asking its user).

// Digest algorithms (RFC 7616 3.3).
const (
	AlgMD5    = "MD5"
	AlgSHA256 = "SHA-256"
)

// Credentials gives the digest HA1 of a user in the bridge's realm:
// H(user:realm:password) in lower-case hex, H being algorithm's hash
// (AlgMD5 or AlgSHA256). ok is false for an unknown user.
type Credentials interface {
	HA1(user, algorithm string) (ha1 string, ok bool)
}

// CredentialsFunc adapts a function to Credentials.
type CredentialsFunc func(user, algorithm string) (string, bool)

// HA1 calls f.
func (f CredentialsFunc) HA1(user, algorithm string) (string, bool) { return f(user, algorithm) }

func newHash(algorithm string) hash.Hash {
	switch algorithm {
	case AlgMD5:
		return md5.New()
	case AlgSHA256:
		return sha256.New()
	}
	return nil
}

func hexHash(algorithm, s string) string {
	h := newHash(algorithm)
	if h == nil {
		return ""
	}
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil))
}

// digestResponse is RFC 7616 3.4.1's response for qop=auth.
func digestResponse(algorithm, ha1, nonce, nc, cnonce, method, uri string) string {
	ha2 := hexHash(algorithm, method+":"+uri)
	return hexHash(algorithm, ha1+":"+nonce+":"+nc+":"+cnonce+":auth:"+ha2)
}

// Defaults of the digest's Options fields.
const (
	DefaultNonceLifetime = 30 * time.Second
	defaultMaxNonces     = 100000
)

// Why a digest check did not authenticate (logged at Debug, counted).
var (
	errNoCredentials  = errors.New("sip: no credentials")
	errBadCredentials = errors.New("sip: wrong user or password")
	errStaleNonce     = errors.New("sip: nonce expired")
	errForeignNonce   = errors.New("sip: nonce not issued to this address")
	errReplay         = errors.New("sip: nonce-count replayed")
	errWrongURI       = errors.New("sip: digest uri is not the request-URI")
	errThrottled      = errors.New("sip: too many failed attempts, slowed down")
	errNonceTable     = errors.New("sip: too many nonces in use")
)

// verdict is what the bridge answers a digest check with.
type verdict int

const (
	verdictOK        verdict = iota
	verdictChallenge         // 401/407 with fresh challenges
	verdictStale             // 401/407 with stale=true: right password, unusable nonce
	verdictRefused           // 403 (wrong password, unknown user, wrong uri: all alike)
	verdictThrottled         // 403 without computing anything
)

// authRequest is what a digest check looks at in a request.
type authRequest struct {
	header  string // Authorization or Proxy-Authorization, "" if absent
	method  string
	uri     string // the Request-URI as the stack gives it
	source  string // remote host:port
	claimed string // the user the request acts as (From; To and From for REGISTER)
}

// digestAuth issues challenges and checks the answers. A nonce is
// stateless until it is used: time, random bytes and an HMAC over both
// and the client's IP. The nonce-counts of used nonces are kept until
// they expire (bounded by maxNonces).
type digestAuth struct {
	realm      string
	creds      Credentials
	algorithms []string // offered, in order of preference
	lifetime   time.Duration
	maxNonces  int
	sameURI    func(a, b string) bool
	throttle   *throttle.Throttle
	now        func() time.Time
	key        [32]byte
	fakeHA1    string // the HA1 an unknown user is checked against (timing)

	mu   sync.Mutex
	used map[string]nonceUse // nonce → highest nc seen
}

type nonceUse struct {
	nc      uint32
	expires time.Time
}

type digestOptions struct {
	Realm      string
	Creds      Credentials
	Algorithms []string
	Lifetime   time.Duration
	MaxNonces  int
	SameURI    func(a, b string) bool
	Throttle   *throttle.Throttle
	Now        func() time.Time
}

func newDigestAuth(o digestOptions) *digestAuth {
	a := &digestAuth{realm: o.Realm, creds: o.Creds, algorithms: o.Algorithms, lifetime: o.Lifetime,
		maxNonces: o.MaxNonces, sameURI: o.SameURI, throttle: o.Throttle, now: o.Now, used: map[string]nonceUse{}}
	if len(a.algorithms) == 0 {
		a.algorithms = []string{AlgSHA256, AlgMD5}
	}
	if a.lifetime <= 0 {
		a.lifetime = DefaultNonceLifetime
	}
	if a.maxNonces <= 0 {
		a.maxNonces = defaultMaxNonces
	}
	if a.sameURI == nil {
		a.sameURI = func(x, y string) bool { return x == y }
	}
	if a.creds == nil {
		a.creds = CredentialsFunc(func(string, string) (string, bool) { return "", false })
	}
	rand.Read(a.key[:])
	var fake [16]byte
	rand.Read(fake[:])
	a.fakeHA1 = hex.EncodeToString(fake[:])
	return a
}

// challenges are the WWW-Authenticate / Proxy-Authenticate values for a
// client at source: one per algorithm, SHA-256 first (RFC 7616 3.7), on
// one nonce.
func (a *digestAuth) challenges(source string, stale bool) []string {
	n := a.nonce(source)
	out := make([]string, 0, len(a.algorithms))
	for _, alg := range a.algorithms {
		c := digest.Challenge{Realm: a.realm, Nonce: n, Algorithm: alg, QOP: []string{"auth"}, Stale: stale}
		out = append(out, c.String())
	}
	return out
}

func (a *digestAuth) nonce(source string) string {
	var r [nonceRandLen]byte
	rand.Read(r[:])
	return makeNonce(a.key[:], a.now(), r, throttle.Key(source))
}

// check verifies req's credentials. It returns the authenticated user
// with verdictOK, or the answer to give and why.
func (a *digestAuth) check(req authRequest) (string, verdict, error) {
	if req.header == "" {
		return "", verdictChallenge, errNoCredentials
	}
	cred, err := digest.ParseCredentials(req.header)
	if err != nil || cred.Realm != a.realm || cred.Username == "" {
		return "", verdictChallenge, errNoCredentials
	}
	alg := a.algorithm(cred.Algorithm)
	if alg == "" || cred.QOP != "auth" || cred.Nc <= 0 || cred.Cnonce == "" {
		// Only what we offer: without qop there is no nonce-count to
		// stop a replay (RFC 2069 style is refused).
		return "", verdictChallenge, errNoCredentials
	}
	if wait := a.throttle.Check(req.source, cred.Username); wait > 0 {
		return "", verdictThrottled, errThrottled
	}
	ha1, known := a.creds.HA1(cred.Username, alg)
	if !known || ha1 == "" {
		ha1 = a.fakeHA1 // the same work as a known user: no timing difference
	}
	nc := hexNC(cred.Nc)
	want := digestResponse(alg, ha1, cred.Nonce, nc, cred.Cnonce, req.method, cred.URI)
	right := subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(cred.Response))) == 1 && known
	switch {
	case !right:
		a.throttle.Fail(req.source, cred.Username)
		return "", verdictRefused, errBadCredentials
	case cred.Username != req.claimed:
		a.throttle.Fail(req.source, cred.Username)
		return "", verdictRefused, errBadCredentials
	case !a.sameURI(cred.URI, req.uri):
		a.throttle.Fail(req.source, cred.Username)
		return "", verdictRefused, errWrongURI
	}
	// The password is right; the nonce decides whether this request may
	// use it.
	issued, ok := parseNonce(a.key[:], cred.Nonce, throttle.Key(req.source))
	switch {
	case !ok:
		a.throttle.Fail(req.source, cred.Username)
		return "", verdictStale, errForeignNonce
	case a.now().Sub(issued) > a.lifetime || issued.Sub(a.now()) > time.Second:
		return "", verdictStale, errStaleNonce
	}
	if err := a.useNonce(cred.Nonce, uint32(cred.Nc), issued.Add(a.lifetime)); err != nil {
		a.throttle.Fail(req.source, cred.Username)
		return "", verdictStale, err
	}
	a.throttle.Succeed(req.source, cred.Username)
	return cred.Username, verdictOK, nil
}

// algorithm is the offered algorithm a credentials' algorithm names
// (absent: MD5), "" when not offered.
func (a *digestAuth) algorithm(name string) string {
	if name == "" {
		name = AlgMD5
	}
	for _, alg := range a.algorithms {
		if strings.EqualFold(alg, name) {
			return alg
		}
	}
	return ""
}

// useNonce records nc for nonce: it must be higher than any nc the nonce
// was used with.
func (a *digestAuth) useNonce(nonce string, nc uint32, expires time.Time) error {
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	u, seen := a.used[nonce]
	if seen && nc <= u.nc {
		return errReplay
	}
	if !seen && len(a.used) >= a.maxNonces {
		for k, v := range a.used {
			if now.After(v.expires) {
				delete(a.used, k)
			}
		}
		if len(a.used) >= a.maxNonces {
			return errNonceTable // the client gets a new nonce later: never forget a live one
		}
	}
	a.used[nonce] = nonceUse{nc: nc, expires: expires}
	return nil
}

// hexNC is nc as the 8 hex digits the client hashed. ParseCredentials
// parsed it; clients write lower-case hex (RFC 7616 3.4).
func hexNC(nc int) string {
	const digits = "0123456789abcdef"
	var b [8]byte
	for i := 7; i >= 0; i-- {
		b[i] = digits[nc&0xf]
		nc >>= 4
	}
	return string(b[:])
}
