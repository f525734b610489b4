package siprtmp_test

import (
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/call"
)

// fakeGateway stands in for sipbridge: it takes numbers (digits, optional +).
type fakeGateway struct{ dialed chan [2]string }

func (g *fakeGateway) Routes(to string) bool {
	return strings.Trim(strings.TrimPrefix(to, "+"), "0123456789") == "" && to != ""
}

func (g *fakeGateway) Dial(id, _, to string) (call.Leg, error) {
	g.dialed <- [2]string{id, to}
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
	gw := &fakeGateway{dialed: make(chan [2]string, 4)}
	st := startStackWith(t, call.Options{RingTimeout: time.Minute, Gateway: gw})
	alice := mustSip(t, st, "alice")

	dialed := func(want string) string {
		t.Helper()
		select {
		case d := <-gw.dialed:
			if d[1] != want {
				t.Fatalf("gateway dialed %q, want %q", d[1], want)
			}
			return d[0]
		case <-time.After(2 * time.Second):
			t.Fatal("nothing dialed")
		}
		return ""
	}
	alice.cmd("invite", "tel:+15551234567")
	id := dialed("+15551234567")
	if err := st.calls.ExternalRinging(id); err != nil {
		t.Fatal(err)
	}
	alice.expect("ringing", "180 Ringing")
	if err := st.calls.ExternalHangup(id, "sip 486 Busy Here"); err != nil {
		t.Fatal(err)
	}
	alice.expect("rejected", "486 Busy Here")

	alice.cmd("invite", `"Help desk" <sip:18001234567@phone.example.net>`)
	id = dialed("18001234567")
	if _, err := st.calls.ExternalAnswer(id); err != nil {
		t.Fatal(err)
	}
	alice.expect("accepted")
	if err := st.calls.ExternalHangup(id, call.ReasonHangup); err != nil {
		t.Fatal(err)
	}
	alice.expect("byed")
}
