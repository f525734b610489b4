package rtmfp

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

type cookieResult int

const (
	cookieOK       cookieResult = iota
	cookieBad                   // not ours or expired: drop
	cookieMismatch              // ours, for another address: send a cookie change
)

// cookieJar makes stateless cookies: the second since start, an HMAC of it
// and an HMAC of it with the initiator's address. Nothing is stored per
// initiator and no Diffie-Hellman work happens before a cookie comes back.
type cookieJar struct {
	secret [32]byte
	start  time.Time
}

func newCookieJar(now time.Time) *cookieJar {
	j := &cookieJar{start: now}
	_, _ = rand.Read(j.secret[:])
	return j
}

func (j *cookieJar) make(now time.Time, addr netip.AddrPort) []byte {
	sec := uint64(now.Sub(j.start) / time.Second)
	c := appendVLU(make([]byte, 0, 2*sha256.Size+4), sec)
	return j.sign(c, c, addr)
}

func (j *cookieJar) sign(dst, slot []byte, addr netip.AddrPort) []byte {
	m := hmac.New(sha256.New, j.secret[:])
	m.Write(slot)
	dst = m.Sum(dst)
	a := addr.Addr().As16()
	m.Write(a[:])
	m.Write([]byte{byte(addr.Port() >> 8), byte(addr.Port())})
	return m.Sum(dst)
}

func (j *cookieJar) check(now time.Time, cookie []byte, addr netip.AddrPort) cookieResult {
	sec, n, err := parseVLU(cookie)
	if err != nil || len(cookie) != n+2*sha256.Size {
		return cookieBad
	}
	age := now.Sub(j.start) - time.Duration(sec)*time.Second
	if sec > 1<<40 || age < -time.Second || age > cookieLifetime {
		return cookieBad
	}
	var buf [2 * sha256.Size]byte
	want := j.sign(buf[:0], cookie[:n], addr)
	if !hmac.Equal(want[:sha256.Size], cookie[n:n+sha256.Size]) {
		return cookieBad
	}
	if !hmac.Equal(want[sha256.Size:], cookie[n+sha256.Size:]) {
		return cookieMismatch
	}
	return cookieOK
}
