package sipbridge

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/icholy/digest"

	"github.com/flashvox/flashvox/internal/passhash"
	"github.com/flashvox/flashvox/throttle"
)

// TestDigestRFC7616Vectors: the response of RFC 7616 3.9.1's example
// (Mufasa, "Circle of Life") for MD5 and SHA-256.
func TestDigestRFC7616Vectors(t *testing.T) {
	const (
		realm  = "http-auth@example.org"
		nonce  = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
		cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
	)
	for alg, want := range map[string]string{
		AlgMD5:    "8ca523f5e9506fed4657c9700eebdbec",
		AlgSHA256: "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
	} {
		ha1, _ := passhash.HA1(alg, "Mufasa", realm, "Circle of Life")
		if got := digestResponse(alg, ha1, nonce, "00000001", cnonce, "GET", "/dir/index.html"); got != want {
			t.Errorf("%s: response %s, want %s", alg, got, want)
		}
	}
}

// digestFixture is a digestAuth on a settable clock with users alice and
// bob (password = name).
type digestFixture struct {
	a   *digestAuth
	now time.Time
}

func newDigestFixture(t *testing.T, th *throttle.Throttle) *digestFixture {
	t.Helper()
	f := &digestFixture{now: time.Unix(1_800_000_000, 0)}
	if th == nil {
		th = throttle.New(throttle.Options{FreeFailures: 1000, AccountFailures: 1000, Now: func() time.Time { return f.now }})
	}
	f.a = newDigestAuth(digestOptions{Realm: "flashvox", Creds: passwordCredentials("flashvox", map[string]string{"alice": "alice", "bob": "bob"}),
		Throttle: th, Now: func() time.Time { return f.now }, MaxNonces: 4})
	return f
}

// answer is a client's header for a challenge (icholy/digest computes it:
// an implementation other than ours).
func answer(t *testing.T, chal, user, pass, method, uri string, nc int) string {
	t.Helper()
	c, err := digest.ParseChallenge(chal)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := digest.Digest(c, digest.Options{Method: method, URI: uri, Username: user, Password: pass, Count: nc, Cnonce: "0a4f113b"})
	if err != nil {
		t.Fatal(err)
	}
	return cred.String()
}

func TestDigestCheck(t *testing.T) {
	const src, uri = "192.0.2.7:5062", "sip:bob@198.51.100.1"
	type tc struct {
		name    string
		alg     int // index of the challenge answered: 0 SHA-256, 1 MD5
		user    string
		pass    string
		uri     string // credentials' uri (default: the request's)
		source  string // where the request comes from (default src)
		claimed string // default user
		later   time.Duration
		want    verdict
		err     error
	}
	for _, c := range []tc{
		{name: "sha-256", user: "alice", pass: "alice", want: verdictOK},
		{name: "md5", alg: 1, user: "alice", pass: "alice", want: verdictOK},
		{name: "wrong password", user: "alice", pass: "x", want: verdictRefused, err: errBadCredentials},
		{name: "unknown user", user: "dave", pass: "x", want: verdictRefused, err: errBadCredentials},
		{name: "unknown user with a known password", user: "dave", pass: "alice", want: verdictRefused, err: errBadCredentials},
		{name: "as another user", user: "alice", pass: "alice", claimed: "bob", want: verdictRefused, err: errBadCredentials},
		{name: "uri of another request", user: "alice", pass: "alice", uri: "sip:+882100@198.51.100.1", want: verdictRefused, err: errWrongURI},
		{name: "another address", user: "alice", pass: "alice", source: "192.0.2.8:5062", want: verdictStale, err: errForeignNonce},
		{name: "another port", user: "alice", pass: "alice", source: "192.0.2.7:6000", want: verdictOK},
		{name: "stale", user: "alice", pass: "alice", later: DefaultNonceLifetime + time.Second, want: verdictStale, err: errStaleNonce},
		{name: "just in time", user: "alice", pass: "alice", later: DefaultNonceLifetime, want: verdictOK},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newDigestFixture(t, nil)
			chal := f.a.challenges(src, false)
			if len(chal) != 2 || !strings.Contains(chal[0], "algorithm=SHA-256") || !strings.Contains(chal[1], "algorithm=MD5") {
				t.Fatalf("challenges %q", chal)
			}
			credURI := uri
			if c.uri != "" {
				credURI = c.uri
			}
			h := answer(t, chal[c.alg], c.user, c.pass, "INVITE", credURI, 1)
			f.now = f.now.Add(c.later)
			req := authRequest{header: h, method: "INVITE", uri: uri, source: src, claimed: c.user}
			if c.source != "" {
				req.source = c.source
			}
			if c.claimed != "" {
				req.claimed = c.claimed
			}
			user, v, err := f.a.check(req)
			if v != c.want || !errors.Is(err, c.err) || (v == verdictOK) != (user == c.user) {
				t.Fatalf("check = %q, %d, %v; want %d, %v", user, v, err, c.want, c.err)
			}
		})
	}
}

// TestDigestNonceCount: each use of a nonce needs a higher nc; a replay
// (the same nc, or a lower one) is refused with stale=true.
func TestDigestNonceCount(t *testing.T) {
	const src, uri = "192.0.2.7:5062", "sip:flashvox"
	f := newDigestFixture(t, nil)
	chal := f.a.challenges(src, false)[1]
	check := func(nc int) verdict {
		_, v, _ := f.a.check(authRequest{header: answer(t, chal, "bob", "bob", "REGISTER", uri, nc), method: "REGISTER", uri: uri, source: src, claimed: "bob"})
		return v
	}
	for i, step := range []struct {
		nc   int
		want verdict
	}{{1, verdictOK}, {1, verdictStale}, {2, verdictOK}, {5, verdictOK}, {3, verdictStale}, {5, verdictStale}, {6, verdictOK}} {
		if v := check(step.nc); v != step.want {
			t.Fatalf("step %d: nc %d: verdict %d, want %d", i, step.nc, v, step.want)
		}
	}
}

// TestDigestNonceTableBounded: the table of used nonces never grows past
// its cap; expired entries make room, live ones are never forgotten (a
// new nonce is refused instead).
func TestDigestNonceTableBounded(t *testing.T) {
	const src, uri = "192.0.2.7:5062", "sip:flashvox"
	f := newDigestFixture(t, nil) // MaxNonces 4
	use := func() (verdict, error) {
		chal := f.a.challenges(src, false)[1]
		_, v, err := f.a.check(authRequest{header: answer(t, chal, "bob", "bob", "REGISTER", uri, 1), method: "REGISTER", uri: uri, source: src, claimed: "bob"})
		return v, err
	}
	for i := range 4 {
		if v, err := use(); v != verdictOK {
			t.Fatalf("nonce %d: %d %v", i, v, err)
		}
	}
	if v, err := use(); v != verdictStale || !errors.Is(err, errNonceTable) {
		t.Fatalf("fifth live nonce: %d %v", v, err)
	}
	f.now = f.now.Add(DefaultNonceLifetime + time.Second)
	if v, err := use(); v != verdictOK {
		t.Fatalf("after expiry: %d %v", v, err)
	}
	if n := len(f.a.used); n != 1 {
		t.Errorf("%d nonces kept, want 1", n)
	}
}

// TestDigestThrottled: past the throttle's free failures a check is
// refused without computing, for a known and an unknown user alike.
func TestDigestThrottled(t *testing.T) {
	const src, uri = "192.0.2.7:5062", "sip:flashvox"
	var f *digestFixture
	th := throttle.New(throttle.Options{FreeFailures: 3, Now: func() time.Time { return f.now }})
	f = newDigestFixture(t, th)
	// alice from one address, dave (unknown) from another: the same
	// answers, in the same order.
	for user, addr := range map[string]string{"alice": src, "dave": "192.0.2.9:5062"} {
		var got []verdict
		for range 6 {
			chal := f.a.challenges(addr, false)[1]
			_, v, _ := f.a.check(authRequest{header: answer(t, chal, user, "guess", "REGISTER", uri, 1), method: "REGISTER", uri: uri, source: addr, claimed: user})
			got = append(got, v)
		}
		want := []verdict{verdictRefused, verdictRefused, verdictRefused, verdictRefused, verdictThrottled, verdictThrottled}
		if !slices.Equal(got, want) {
			t.Errorf("%s: verdicts %v, want %v", user, got, want)
		}
	}
	if th.Stats.Refused.Load() == 0 {
		t.Error("throttle refused nothing")
	}
}

// FuzzParseNonce: any string is either refused or a nonce we issued; a
// nonce survives the round trip.
func FuzzParseNonce(f *testing.F) {
	key := []byte("0123456789abcdef0123456789abcdef")
	at := time.UnixMilli(1_800_000_000_123)
	f.Add(makeNonce(key, at, [nonceRandLen]byte{1, 2, 3}, "192.0.2.7"), "192.0.2.7")
	f.Add(makeNonce(key, at, [nonceRandLen]byte{}, "2001:db8::/64"), "192.0.2.7")
	f.Add("", "")
	f.Add("AAAA", "::1")
	f.Add(strings.Repeat("A", 43), "127.0.0.1")
	f.Fuzz(func(t *testing.T, nonce, ip string) {
		if issued, ok := parseNonce(key, nonce, ip); ok {
			var r [nonceRandLen]byte
			copy(r[:], mustDecode(t, nonce)[8:])
			if again := makeNonce(key, issued, r, ip); again != nonce {
				t.Fatalf("round trip %q → %q", nonce, again)
			}
		}
		n := makeNonce(key, at, [nonceRandLen]byte{9}, ip)
		if issued, ok := parseNonce(key, n, ip); !ok || !issued.Equal(at) {
			t.Fatalf("own nonce %q for %q: %v %v", n, ip, issued, ok)
		}
	})
}

func mustDecode(t *testing.T, nonce string) []byte {
	t.Helper()
	b, err := nonceEncoding.DecodeString(nonce)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestNonceOneSpelling: the last base64 character of a nonce carries unused
// bits; a variant spelling of an issued nonce must be refused, or it would
// start a nonce-count history of its own (a replay).
func TestNonceOneSpelling(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	n := makeNonce(key, time.UnixMilli(1_800_000_000_123), [nonceRandLen]byte{1, 2, 3}, "192.0.2.7")
	if _, ok := parseNonce(key, n, "192.0.2.7"); !ok {
		t.Fatalf("own nonce %q refused", n)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	variants := 0
	for _, c := range alphabet {
		v := n[:len(n)-1] + string(c)
		if v == n {
			continue
		}
		if _, ok := parseNonce(key, v, "192.0.2.7"); ok {
			t.Errorf("variant %q of %q accepted", v, n)
		}
		variants++
	}
	if variants != len(alphabet)-1 {
		t.Fatalf("tried %d variants", variants)
	}
}
