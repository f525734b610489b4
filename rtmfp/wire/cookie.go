package wire

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"net/netip"
	"time"
)

// cookieLifetime bounds how long an RHello cookie is accepted (RFC 7016
// §3.5.1.1 suggests about 95 s).
const cookieLifetime = 95 * time.Second

// CookieResult is what CookieJar.Check found.
type CookieResult int

// Cookie check results.
const (
	CookieOK       CookieResult = iota // ours, fresh, for this address
	CookieBad                          // not ours or expired: drop
	CookieMismatch                     // ours, for another address: send a cookie change
)

// CookieJar makes stateless cookies: the second since start, an HMAC of it
// and an HMAC of it with the initiator's address. Nothing is stored per
// initiator and no Diffie-Hellman work happens before a cookie comes back.
type CookieJar struct {
	secret [32]byte
	start  time.Time
}

// NewCookieJar makes a jar with a fresh secret; cookie ages count from now.
func NewCookieJar(now time.Time) *CookieJar {
	j := &CookieJar{start: now}
	_, _ = rand.Read(j.secret[:])
	return j
}

// Make returns a cookie for an initiator at addr.
func (j *CookieJar) Make(now time.Time, addr netip.AddrPort) []byte {
	sec := uint64(now.Sub(j.start) / time.Second)
	c := AppendVLU(make([]byte, 0, 2*sha256.Size+4), sec)
	return j.sign(c, c, addr)
}

func (j *CookieJar) sign(dst, slot []byte, addr netip.AddrPort) []byte {
	m := hmac.New(sha256.New, j.secret[:])
	m.Write(slot)
	dst = m.Sum(dst)
	a := addr.Addr().As16()
	m.Write(a[:])
	m.Write([]byte{byte(addr.Port() >> 8), byte(addr.Port())})
	return m.Sum(dst)
}

// Check tells whether cookie is one of ours, fresh and made for addr.
func (j *CookieJar) Check(now time.Time, cookie []byte, addr netip.AddrPort) CookieResult {
	sec, n, err := ParseVLU(cookie)
	if err != nil || len(cookie) != n+2*sha256.Size {
		return CookieBad
	}
	age := now.Sub(j.start) - time.Duration(sec)*time.Second
	if sec > 1<<40 || age < -time.Second || age > cookieLifetime {
		return CookieBad
	}
	var buf [2 * sha256.Size]byte
	want := j.sign(buf[:0], cookie[:n], addr)
	if !hmac.Equal(want[:sha256.Size], cookie[n:n+sha256.Size]) {
		return CookieBad
	}
	if !hmac.Equal(want[sha256.Size:], cookie[n+sha256.Size:]) {
		return CookieMismatch
	}
	return CookieOK
}
