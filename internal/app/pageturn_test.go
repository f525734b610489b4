//go:build cgo

package app

import (
	"testing"
	"time"

	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

// TestPeerPageCallOverTURNTCP: the server runs TURN over TCP only, and
// both pages may reach it only through relays (the direct path blocked,
// the server-bound PeerConnections relay-only): each page gets TURN
// credentials by OPTIONS on its WHEP URL, its four WHIP/WHEP sessions
// connect through turn:…?transport=tcp, and each hears the other.
func TestPeerPageCallOverTURNTCP(t *testing.T) {
	testpeer.SkipShort(t, "chromium")
	a := startPageAppYAML(t, "webrtc:\n  turn_tcp_listen: 127.0.0.1:0\n")
	alice := signIn(t, pageBrowser(t, 440), a.http, "alice")
	bob := signIn(t, pageBrowser(t, 660), a.http, "bob")
	for _, p := range []*pageTab{alice, bob} {
		pageEval[bool](p, `Object.assign(flashvoxMedia.opts, {icePolicy: 'relay', serverPolicy: 'relay', p2pTimeout: 500}); true`)
	}
	start := time.Now()
	callFromPage(t, alice, bob)
	testwait.For(t, 10*time.Second, "the fallback to relay", func() bool {
		cs := alice.calls()
		return len(cs) == 1 && cs[0].Mode == call.ModeRelay
	})
	fell := time.Now()
	alice.hears(660, "relay", 10*time.Second)
	bob.hears(440, "relay", 10*time.Second)
	t.Logf("relay %.1f s after the call button, both tones through TURN/TCP %.1f s later", fell.Sub(start).Seconds(), time.Since(fell).Seconds())
	m := a.metrics(t)
	if n := m[`flashvox_webrtc_turn_connections{transport="tcp"}`]; n < 4 {
		t.Fatalf("%v TURN/TCP connections, want one per WHIP/WHEP session (4)", n)
	}
	if n := a.srv.rtc.TURNAllocations(); n < 4 {
		t.Fatalf("%d TURN relays, want one per WHIP/WHEP session (4)", n)
	}
}
