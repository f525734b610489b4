// Package throttle slows the guessing of secrets: passwords over HTTP, RTMP,
// RTMFP and SIP digest, conference PINs. Every credential check asks Check
// first and reports Fail or Succeed after it; a refused check costs the
// server nothing (no hash is computed, no goroutine sleeps).
//
// The model (docs/SECURITY.md "Guessing"):
//   - per address: an address (IPv6: its /64) may fail FreeFailures times,
//     then each further failure doubles its wait, from BaseDelay up to
//     MaxDelay. A success clears the address.
//   - per account: once an account collects AccountFailures failures from
//     all addresses together, it is under attack: every address that has
//     failed on it at least once waits before its next try (again doubling).
//     An address that never failed on the account, such as the real user's,
//     is not slowed, so an attacker cannot lock a user out.
//
// State is forgotten after Forget without failures and is bounded by
// MaxEntries, so a flood of addresses cannot grow it without limit.
package throttle

import (
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flashvox/flashvox/internal/ratelog"
)

// Options configure a Throttle; zero fields take the defaults.
type Options struct {
	FreeFailures    int           // failures per address before back-off (default 5)
	AccountFailures int           // failures per account, all addresses, before it is guarded (default 20)
	BaseDelay       time.Duration // first wait (default 1s)
	MaxDelay        time.Duration // longest wait (default 60s)
	Forget          time.Duration // quiet time after which an entry is dropped (default 15m)
	MaxEntries      int           // entries of each table (default 100000)
	Logger          *slog.Logger  // one line per LogEvery while checks are refused (internal/ratelog); nil: silent
	LogEvery        time.Duration // default 1m
	Now             func() time.Time
}

// Stats count what the throttle did; safe to read at any time.
type Stats struct {
	Failures atomic.Uint64 // failed credential checks reported
	Refused  atomic.Uint64 // checks refused because of back-off
}

// Throttle is safe for concurrent use.
type Throttle struct {
	o     Options
	Stats Stats

	log *ratelog.Limiter // refusals, one line per LogEvery

	mu    sync.Mutex
	addrs map[string]*entry // address
	pairs map[string]*entry // address + "\x00" + account
	accts map[string]*entry // account
}

type entry struct {
	failures int
	until    time.Time // no check before this
	last     time.Time // last failure
}

// New returns a Throttle.
func New(o Options) *Throttle {
	if o.FreeFailures <= 0 {
		o.FreeFailures = 5
	}
	if o.AccountFailures <= 0 {
		o.AccountFailures = 20
	}
	if o.BaseDelay <= 0 {
		o.BaseDelay = time.Second
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = time.Minute
	}
	if o.Forget <= 0 {
		o.Forget = 15 * time.Minute
	}
	if o.MaxEntries <= 0 {
		o.MaxEntries = 100000
	}
	if o.LogEvery <= 0 {
		o.LogEvery = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Throttle{o: o, addrs: map[string]*entry{}, pairs: map[string]*entry{}, accts: map[string]*entry{},
		log: ratelog.New(ratelog.Options{Logger: o.Logger, Interval: o.LogEvery, Now: o.Now})}
}

// Key reduces an address ("ip", "ip:port" or a net.Addr's String) to what
// the throttle counts: the IP, or the /64 of an IPv6 address (one host
// usually owns a whole /64).
func Key(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// Check returns 0 when a credential check for account from addr may run
// now, else how long the client must wait. A refusal is counted; the
// caller answers it without checking the secret.
func (t *Throttle) Check(addr, account string) time.Duration {
	a := Key(addr)
	now := t.o.Now()
	t.mu.Lock()
	wait := time.Duration(0)
	if e := t.addrs[a]; e != nil && now.Before(e.until) {
		wait = e.until.Sub(now)
	}
	if e := t.pairs[a+"\x00"+account]; e != nil && now.Before(e.until) {
		wait = max(wait, e.until.Sub(now))
	}
	t.mu.Unlock()
	if wait > 0 {
		t.Stats.Refused.Add(1)
		t.log.Log(slog.LevelWarn, "guessing", "credential guessing slowed", "last_addr", a, "last_account", account)
	}
	return wait
}

// Fail records a failed check of account from addr.
func (t *Throttle) Fail(addr, account string) {
	a := Key(addr)
	now := t.o.Now()
	t.Stats.Failures.Add(1)
	t.mu.Lock()
	defer t.mu.Unlock()
	ae := t.get(t.addrs, a, now)
	t.bump(ae, t.o.FreeFailures, now)
	if account == "" {
		return
	}
	acct := t.get(t.accts, account, now)
	acct.failures++
	acct.last = now
	free := t.o.FreeFailures
	if acct.failures >= t.o.AccountFailures {
		free = 0 // under attack: every failing address waits at once
	}
	t.bump(t.get(t.pairs, a+"\x00"+account, now), free, now)
}

// Succeed records a successful check: the address and its pair with the
// account start afresh. The account's count stays, since an attack on it
// from other addresses may go on.
func (t *Throttle) Succeed(addr, account string) {
	a := Key(addr)
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.addrs, a)
	delete(t.pairs, a+"\x00"+account)
}

// bump counts one failure on e and sets its wait once past free failures.
func (t *Throttle) bump(e *entry, free int, now time.Time) {
	e.failures++
	e.last = now
	if over := e.failures - free; over > 0 {
		d := t.o.BaseDelay
		for i := 1; i < over && d < t.o.MaxDelay; i++ {
			d *= 2
		}
		e.until = now.Add(min(d, t.o.MaxDelay))
	}
}

// get returns m's entry for k, creating it; a full table first drops its
// forgotten entries, then any (an attacker who fills it with addresses
// loses its own history, not the server's memory).
func (t *Throttle) get(m map[string]*entry, k string, now time.Time) *entry {
	if e := m[k]; e != nil {
		if now.Sub(e.last) > t.o.Forget && !now.Before(e.until) {
			*e = entry{}
		}
		return e
	}
	if len(m) >= t.o.MaxEntries {
		for key, e := range m {
			if now.Sub(e.last) > t.o.Forget && !now.Before(e.until) {
				delete(m, key)
			}
		}
		for key := range m { // down to 90 % so the sweep is rare
			if len(m) < t.o.MaxEntries*9/10 {
				break
			}
			delete(m, key)
		}
	}
	e := &entry{}
	m[k] = e
	return e
}
