package sipbridge

import (
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/flashvox/flashvox/codec"
)

// Trunk is a SIP provider's proxy.
type Trunk struct {
	Name      string
	Address   string // host:port
	Transport string // udp | tcp | tls (needs Options.TLSListen)
	Username  string // digest credentials for 401/407
	Password  string
	Register  bool
	// InboundFrom are the addresses the trunk sends calls from: INVITEs
	// from them may call the inbound numbers without a login.
	InboundFrom []netip.Prefix
	// RegisterExpires is the binding lifetime asked when Register is set
	// (default 1h); the binding is renewed before what the trunk grants.
	RegisterExpires time.Duration
	// Codecs is the codec order offered to the trunk and accepted from
	// it (nil: Options.Codecs); trunks commonly want G.711 only.
	Codecs []codec.ID
}

// Rule sends numbers matching Match to Trunk; Users, when not empty,
// are the only users allowed to use it.
type Rule struct {
	Match *regexp.Regexp
	Trunk string
	Users []string
}

// Inbound says which target rings when Number is called: a user name,
// "echo", or "conf:ROOM".
type Inbound struct {
	Number string
	Target string
}

// EchoTarget is the built-in extension that answers and plays back what
// it hears. Web users dial it by this name; SIP callers reach it by this
// name or by an inbound number whose target it is.
const EchoTarget = "echo"

// route finds the rule for number; ok is false when none matches.
func route(rules []Rule, number string) (Rule, bool) {
	for _, r := range rules {
		if r.Match.MatchString(number) {
			return r, true
		}
	}
	return Rule{}, false
}

// permitted reports whether user may use r.
func (r Rule) permitted(user string) bool {
	return len(r.Users) == 0 || slices.Contains(r.Users, user)
}

// looksDialable reports whether to is meant for the gateway rather than a
// user: a phone number (digits, optionally with +) or the echo extension.
func looksDialable(to string) bool {
	if to == EchoTarget {
		return true
	}
	s := strings.TrimPrefix(to, "+")
	if s == "" || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && r != '*' && r != '#' {
			return false
		}
	}
	return true
}

// rateLimiter allows n calls per user in any sliding minute (n <= 0: no limit).
type rateLimiter struct {
	n   int
	now func() time.Time
	mu  sync.Mutex
	log map[string][]time.Time
}

func (l *rateLimiter) allow(user string) bool {
	if l.n <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.log == nil {
		l.log = map[string][]time.Time{}
	}
	now := l.now()
	recent := l.log[user][:0]
	for _, t := range l.log[user] {
		if now.Sub(t) < time.Minute {
			recent = append(recent, t)
		}
	}
	if len(recent) >= l.n {
		l.log[user] = recent
		return false
	}
	l.log[user] = append(recent, now)
	return true
}

// dailyLimiter allows n calls per user per UTC day (n <= 0: no limit).
// It keeps one counter per user who called today.
type dailyLimiter struct {
	n   int
	now func() time.Time
	mu  sync.Mutex
	day string // the UTC date the counts are for
	cnt map[string]int
}

func (l *dailyLimiter) allow(user string) bool {
	if l.n <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if day := l.now().UTC().Format(time.DateOnly); day != l.day || l.cnt == nil {
		l.day, l.cnt = day, map[string]int{}
	}
	if l.cnt[user] >= l.n {
		return false
	}
	l.cnt[user]++
	return true
}
