package siprtmp

import (
	"strings"
	"testing"
)

// addressCases drive the parse test and seed the fuzz target.
var addressCases = []struct {
	in     string
	want   Address
	target string // Target with only 127.0.0.1 as ours
	bad    bool
}{
	{in: `"Bob Jones" <sip:bob@home.com>`, want: Address{Display: "Bob Jones", Scheme: "sip", User: "bob", Host: "home.com"}, target: "bob@home.com"},
	{in: `Bob <sip:bob@127.0.0.1:5060;transport=udp>`, want: Address{Display: "Bob", Scheme: "sip", User: "bob", Host: "127.0.0.1:5060"}, target: "bob"},
	{in: "sip:bob@127.0.0.1", want: Address{Scheme: "sip", User: "bob", Host: "127.0.0.1"}, target: "bob"},
	{in: "SIPS:bob@127.0.0.1?subject=x", want: Address{Scheme: "sips", User: "bob", Host: "127.0.0.1"}, target: "bob"},
	{in: "bob@127.0.0.1", want: Address{User: "bob", Host: "127.0.0.1"}, target: "bob"},
	{in: " bob ", want: Address{User: "bob"}, target: "bob"},
	{in: "tel:+12125551234", want: Address{Scheme: "tel", User: "+12125551234"}, target: "+12125551234"},
	{in: "sip:18001234567@phone.example.net", want: Address{Scheme: "sip", User: "18001234567", Host: "phone.example.net"}, target: "18001234567@phone.example.net"},
	{in: "sip:bob@[::1]:5060", want: Address{Scheme: "sip", User: "bob", Host: "[::1]:5060"}, target: "bob@[::1]:5060"},
	{in: "", bad: true},
	{in: "<sip:", bad: true},
	{in: "sip:", bad: true},
	{in: "sip:@host", bad: true},
	{in: "a@b@c", bad: true},
	{in: "bob smith", bad: true},
	{in: strings.Repeat("x", 600), bad: true},
}

func TestParseAddress(t *testing.T) {
	ours := func(d string) bool { return d == "127.0.0.1" }
	for _, tc := range addressCases {
		a, err := ParseAddress(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("%q: accepted as %+v", tc.in, a)
			}
			continue
		}
		if err != nil || a != tc.want {
			t.Errorf("%q: got %+v, %v; want %+v", tc.in, a, err, tc.want)
			continue
		}
		if got := Target(a, ours); got != tc.target {
			t.Errorf("%q: target %q, want %q", tc.in, got, tc.target)
		}
	}
}

// FuzzParseAddress: never panics, and what parses writes back (String) to
// an address that parses to the same scheme, user and host.
func FuzzParseAddress(f *testing.F) {
	for _, tc := range addressCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAddress(s)
		if err != nil {
			return
		}
		if len(a.String()) > maxAddress {
			// An address near the bound without a scheme writes back
			// with "sip:" added, past the bound a client may send: the
			// bound is on what clients send, not on what we write.
			return
		}
		b, err := ParseAddress(a.String())
		if err != nil {
			t.Fatalf("%q parsed to %+v whose text %q does not parse: %v", s, a, a.String(), err)
		}
		if a.Scheme == "" {
			a.Scheme = "sip"
		}
		a.Display = ""
		if a != b {
			t.Fatalf("%q: %+v, round trip %+v", s, a, b)
		}
		_ = Target(a, func(string) bool { return false })
		_ = a.Domain()
	})
}
