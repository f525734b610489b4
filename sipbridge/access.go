package sipbridge

import (
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Who may do what on the SIP listeners (docs/SECURITY.md):
//   - a trunk, recognised by its source address (Trunk.InboundFrom), may
//     call the inbound numbers (Options.Inbound) without a login; its
//     caller is external and is shown as such (ExternalPrefix);
//   - everything else (echo, users, dial-plan numbers, and inbound numbers
//     from any other address) needs a digest login as a configured user
//     first, before any RTP port is given;
//   - a REGISTER binds only the authenticated user's own address of record.

// ExternalPrefix marks a caller the bridge did not authenticate (a trunk's
// caller): the call service and every client see "ext:" + the From user
// part, which can never be a local user's name (user names have no ':').
const ExternalPrefix = "ext:"

// maxExternalName bounds the caller name taken from a From header.
const maxExternalName = 32

// externalCaller is the caller name shown for an unauthenticated From user
// part: ExternalPrefix and the user part's phone-number-like characters.
func externalCaller(from string) string {
	var b strings.Builder
	b.WriteString(ExternalPrefix)
	n := 0
	for _, r := range from {
		if n >= maxExternalName {
			break
		}
		if (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || strings.ContainsRune("+*#._-", r) {
			b.WriteRune(r)
			n++
		}
	}
	if n == 0 {
		b.WriteString("anonymous")
	}
	return b.String()
}

// trunkFor returns the name of the trunk whose InboundFrom holds source's
// address, "" when none does.
func (b *Bridge) trunkFor(source string) string {
	host, _, err := net.SplitHostPort(source)
	if err != nil {
		host = source
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return ""
	}
	ip = ip.Unmap()
	for _, t := range b.routes().list {
		for _, p := range t.InboundFrom {
			if p.Contains(ip) {
				return t.Name
			}
		}
	}
	return ""
}

// inboundTarget is the target of inbound number to, "" if it is none.
func (b *Bridge) inboundTarget(to string) string {
	for _, in := range b.routes().inbound {
		if in.Number == to {
			return in.Target
		}
	}
	return ""
}

// authenticate checks an INVITE's Proxy-Authorization; when it does not
// authenticate the From user it answers (407 challenge, or 403) and
// returns false. Nothing else has happened yet: no RTP port, no call.
func (b *Bridge) authenticate(o offer, log *slog.Logger) (string, bool) {
	user, v, err := b.auth.check(authRequest{header: o.Header("Proxy-Authorization"), method: o.Method(),
		uri: o.RequestURI(), source: o.Source(), claimed: o.FromUser()})
	if v == verdictOK {
		return user, true
	}
	code, reason, hs := b.refusal(v, err, "Proxy-Authenticate", o.Source())
	log.Debug("sip invite not authenticated", "err", err, "code", code)
	if code == 403 {
		b.Stats.Forbidden.Add(1)
	}
	b.respondHeaders(o, code, reason, log, hs...)
	return "", false
}

// refusal is the answer to a digest check that did not authenticate,
// counting it: a challenge (header 401's WWW-Authenticate or 407's
// Proxy-Authenticate) or 403. The same for a known and an unknown user.
func (b *Bridge) refusal(v verdict, err error, header, source string) (int, string, [][2]string) {
	switch v {
	case verdictChallenge, verdictStale:
		if v == verdictStale && err != errStaleNonce {
			b.Stats.AuthReplays.Add(1)
		}
		code, reason := 401, "Unauthorized"
		if header == "Proxy-Authenticate" {
			code, reason = 407, "Proxy Authentication Required"
		}
		var hs [][2]string
		for _, c := range b.auth.challenges(source, v == verdictStale) {
			hs = append(hs, [2]string{header, c})
		}
		return code, reason, hs
	case verdictThrottled:
		b.Stats.AuthThrottled.Add(1)
		return 403, "Forbidden", nil
	}
	b.Stats.AuthFailures.Add(1)
	return 403, "Forbidden", nil
}

// respondHeaders answers o with extra headers; a 4xx-6xx counts as a
// failed call unless it is a challenge.
func (b *Bridge) respondHeaders(o offer, code int, reason string, log *slog.Logger, hs ...[2]string) {
	if code != 401 && code != 407 {
		b.Stats.fail(code)
	}
	if err := o.Respond(code, reason, hs...); err != nil {
		log.Debug("respond failed", "code", code, "err", err)
	}
}

// isUser reports whether name is a configured user (has an HA1).
func (b *Bridge) isUser(name string) bool {
	for _, alg := range b.auth.algorithms {
		if _, ok := b.opts.Credentials.HA1(name, alg); ok {
			return true
		}
	}
	return false
}

// ParsePrefixes reads CIDRs ("192.0.2.0/24") or single addresses (a /32
// or /128) for Trunk.InboundFrom.
func ParsePrefixes(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, err
			}
			a = a.Unmap()
			s = a.String() + "/" + strconv.Itoa(a.BitLen())
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
