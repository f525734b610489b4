package siprtmp

import (
	"errors"
	"net"
	"strings"
)

// maxAddress bounds the text of an address a client sends.
const maxAddress = 512

// Errors of address parsing.
var (
	errAddressEmpty = errors.New("address is empty")
	errAddressLong  = errors.New("address is longer than 512 bytes")
	errAddressForm  = errors.New("address must look like sip:user@domain, user@domain, user or tel:number")
)

// Address is a SIP name-addr or URI as rtmplite clients write them:
// `"Bob Jones" <sip:bob@home.com>`, `sip:bob@home.com;transport=udp`,
// `bob@home.com`, `bob`, `tel:+12125551234`.
type Address struct {
	Display string // display name, unquoted
	Scheme  string // sip, sips or tel ("" when the text had none)
	User    string // user part (the number for tel:)
	Host    string // domain, with any :port; "" when the text had none
}

// ParseAddress reads an address; URI parameters and headers are dropped.
func ParseAddress(s string) (Address, error) {
	var a Address
	if len(s) > maxAddress {
		return a, errAddressLong
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return a, errAddressEmpty
	}
	if i := strings.IndexByte(s, '<'); i >= 0 {
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			return a, errAddressForm
		}
		a.Display = strings.Trim(strings.TrimSpace(s[:i]), `"`)
		s = strings.TrimSpace(s[i+1 : i+j])
	}
	if scheme, rest, ok := strings.Cut(s, ":"); ok {
		switch l := strings.ToLower(scheme); l {
		case "sip", "sips", "tel":
			a.Scheme, s = l, rest
		}
	}
	if i := strings.IndexAny(s, ";?"); i >= 0 {
		s = s[:i]
	}
	if a.Scheme == "tel" {
		a.User = s
	} else if user, host, ok := strings.Cut(s, "@"); ok {
		a.User, a.Host = user, host
	} else {
		a.User = s
	}
	if a.User == "" || !clean(a.User) || !clean(a.Host) {
		return Address{}, errAddressForm
	}
	return a, nil
}

// String writes the address as siprtmp's callbacks carry it: sip:user@host.
func (a Address) String() string {
	scheme := a.Scheme
	if scheme == "" {
		scheme = "sip"
	}
	if a.Host == "" {
		return scheme + ":" + a.User
	}
	return scheme + ":" + a.User + "@" + a.Host
}

// Domain is the host without a port, in lower case.
func (a Address) Domain() string {
	h := a.Host
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	return strings.ToLower(strings.Trim(h, "[]"))
}

// Target is the name handed to call.Service.Invite for an address: the
// user part when the domain is ours (or absent), the number of a tel: URI,
// and user@domain otherwise. A name that is not a user goes to the
// service's gateway (sipbridge) if its Routes accepts it.
func Target(a Address, ours func(domain string) bool) string {
	switch {
	case a.Scheme == "tel", a.Host == "", ours(a.Domain()):
		return a.User
	}
	return a.User + "@" + a.Host
}

// clean reports whether s has no spaces, control characters or the
// delimiters of a name-addr.
func clean(s string) bool {
	for _, r := range s {
		if r <= ' ' || r == 0x7f || strings.ContainsRune(`<>"@`, r) {
			return false
		}
	}
	return true
}
