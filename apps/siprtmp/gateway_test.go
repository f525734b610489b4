package siprtmp_test

import (
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/call"
)

// fakeGateway stands in for sipbridge: it takes numbers (digits, optional +).
type fakeGateway struct{ dialed chan dialed }

// dialed is one call the gateway was asked to place.
type dialed struct {
	x  call.External
	to string
}

func (g *fakeGateway) Routes(to string) bool {
	return strings.Trim(strings.TrimPrefix(to, "+"), "0123456789") == "" && to != ""
}

func (g *fakeGateway) Dial(x call.External, _, to string) (call.Leg, error) {
	g.dialed <- dialed{x, to}
	return legFunc(func(call.Event) {}), nil
}

type legFunc func(call.Event)

func (f legFunc) Event(e call.Event) { f(e) }

// TestSipPhoneNumbersThroughGateway: a number a siprtmp client invites
// (tel: URI, or sip: at any domain when every domain is ours) goes to the
// call service's gateway, the SIP bridge's seam; its progress comes back
// as siprtmp callbacks.
func TestSipPhoneNumbersThroughGateway(t *testing.T) {
	t.Parallel()
	gw := &fakeGateway{dialed: make(chan dialed, 4)}
	st := startStackWith(t, call.Options{RingTimeout: time.Minute, Gateway: gw})
	alice := mustSip(t, st, "alice")

	dialedTo := func(want string) call.External {
		t.Helper()
		select {
		case d := <-gw.dialed:
			if d.to != want {
				t.Fatalf("gateway dialed %q, want %q", d.to, want)
			}
			return d.x
		case <-time.After(2 * time.Second):
			t.Fatal("nothing dialed")
		}
		return call.External{}
	}
	alice.cmd("invite", "tel:+15551234567")
	x := dialedTo("+15551234567")
	if err := x.Ringing(); err != nil {
		t.Fatal(err)
	}
	alice.expect("ringing", "180 Ringing")
	if err := x.Hangup("sip 486 Busy Here"); err != nil {
		t.Fatal(err)
	}
	alice.expect("rejected", "486 Busy Here")

	alice.cmd("invite", `"Help desk" <sip:18001234567@phone.example.net>`)
	x = dialedTo("18001234567")
	if _, err := x.Answer(); err != nil {
		t.Fatal(err)
	}
	alice.expect("accepted")
	if err := x.Hangup(call.ReasonHangup); err != nil {
		t.Fatal(err)
	}
	alice.expect("byed")
}
