package sipbridge

import (
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testpeer"
)

// Hostile tests of SIP digest authentication (docs/SECURITY.md "SIP").
// The attacker is elsewhere on the loopback network (127.0.0.2, .3): not
// the trunk's address (127.0.0.1).

// testClock is a clock a test moves forward.
type testClock struct{ off atomic.Int64 }

func (c *testClock) now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *testClock) advance(d time.Duration) { c.off.Add(int64(d)) }

// TestPeerDigestReplay: alice's phone (127.0.0.2) authenticates an INVITE
// to bob. Its Proxy-Authorization, replayed unchanged on INVITEs to two
// trunk numbers, from alice's address and from another, is refused (403)
// and the trunk receives nothing; replayed on the same request it is
// refused (407, its nonce-count is used); after the nonce's lifetime the
// right answer gets 407 with stale=true.
func TestPeerDigestReplay(t *testing.T) {
	testpeer.SkipShort(t, "real SIP traffic")
	tr, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	clk := &testClock{}
	e := startEnv(t, func(o *Options) { o.Trunks = []Trunk{trunk(tr.LocalAddr().String())}; o.Now = clk.now })
	srv := e.bridge.Addr()
	alice := newProbe(t, "127.0.0.2", srv)
	toBob := sipReq{method: "INVITE", ruri: "sip:bob@" + srv, from: "alice", to: "bob"}
	ch := alice.send(toBob)
	if ch.code != 407 {
		t.Fatalf("first INVITE: %s", ch.status)
	}
	toBob.auth = login(t, ch, toBob, "alice", "alice", 1)
	if a := alice.send(toBob); a.code != 480 { // authenticated: bob is offline
		t.Fatalf("alice's authenticated INVITE to bob: %s", a.status)
	}
	captured := toBob.auth

	attacker := newProbe(t, "127.0.0.3", srv)
	for _, p := range []*probe{alice, attacker} {
		for _, num := range []string{"+882100000001", "+449060000000"} {
			r := sipReq{method: "INVITE", ruri: "sip:" + num + "@" + srv, from: "alice", to: num, auth: captured}
			if a := p.send(r); a.code != 403 {
				t.Errorf("replay to %s from %s: %s, want 403", num, p.addr(), a.status)
			}
		}
	}
	if a := attacker.send(toBob); a.code != 407 {
		t.Errorf("replay to bob from elsewhere: %s, want 407", a.status)
	}
	if a := alice.send(toBob); a.code != 407 {
		t.Errorf("replay to bob, same address, same nc: %s, want 407", a.status)
	}
	tr.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, _, err := tr.ReadFrom(make([]byte, 2048)); err == nil {
		t.Errorf("the trunk received %d bytes", n)
	}

	// A stale nonce: right password, nonce past its lifetime.
	fresh := alice.send(sipReq{method: "INVITE", ruri: toBob.ruri, from: "alice", to: "bob"})
	toBob.auth = login(t, fresh, toBob, "alice", "alice", 1)
	clk.advance(DefaultNonceLifetime + time.Second)
	a := alice.send(toBob)
	if a.code != 407 || !strings.Contains(strings.Join(a.headers["proxy-authenticate"], " "), "stale=true") {
		t.Errorf("stale nonce: %s %q, want 407 with stale=true", a.status, a.headers["proxy-authenticate"])
	}
	t.Logf("replays refused: %d (403: %d), replays answered stale: %d", e.bridge.Stats.AuthFailures.Load(), e.bridge.Stats.Forbidden.Load(), e.bridge.Stats.AuthReplays.Load())
}

// TestPeerRegisterReplay: bob's phone registers. Its REGISTER, replayed
// unchanged from another port of the same host (a new contact; then with
// Expires: 0) and from another host, is refused (401: its nonce-count is
// used, or its nonce is another address's); bob's binding stays, the
// attacker's contact is never bound. alice, with her own password,
// cannot register bob's address of record.
func TestPeerRegisterReplay(t *testing.T) {
	testpeer.SkipShort(t, "real SIP traffic")
	e := startEnv(t, nil)
	srv := e.bridge.Addr()
	phone := newProbe(t, "127.0.0.1", srv)
	reg := sipReq{method: "REGISTER", ruri: "sip:" + srv, from: "bob", to: "bob", extra: []string{"Expires: 600"}}
	ch := phone.send(reg)
	if ch.code != 401 {
		t.Fatalf("REGISTER: %s", ch.status)
	}
	reg.auth = login(t, ch, reg, "bob", "bob", 1)
	if a := phone.send(reg); a.code != 200 {
		t.Fatalf("bob's REGISTER: %s", a.status)
	}
	bound := e.bridge.Registered("bob")
	if len(bound) != 1 {
		t.Fatalf("bob's contacts: %q", bound)
	}
	for _, c := range []struct {
		ip, expires string
	}{{"127.0.0.1", "600"}, {"127.0.0.1", "0"}, {"127.0.0.3", "600"}, {"127.0.0.3", "0"}} {
		attacker := newProbe(t, c.ip, srv)
		replay := reg
		replay.extra = []string{"Expires: " + c.expires}
		if a := attacker.send(replay); a.code != 401 {
			t.Errorf("replay from %s with Expires %s: %s, want 401", attacker.addr(), c.expires, a.status)
		}
		if got := e.bridge.Registered("bob"); len(got) != 1 || got[0] != bound[0] {
			t.Fatalf("after the replay from %s (Expires %s) bob's contacts are %q, want %q", attacker.addr(), c.expires, got, bound)
		}
	}
	// alice's right password does not register bob's AOR (To bob).
	evil := newProbe(t, "127.0.0.3", srv)
	r := sipReq{method: "REGISTER", ruri: "sip:" + srv, from: "alice", to: "bob", extra: []string{"Expires: 600"}}
	r.auth = login(t, evil.send(r), r, "alice", "alice", 1)
	if a := evil.send(r); a.code != 403 {
		t.Errorf("alice registering bob: %s, want 403", a.status)
	}
	r = sipReq{method: "REGISTER", ruri: "sip:" + srv, from: "bob", to: "alice", extra: []string{"Expires: 600"}}
	r.auth = login(t, evil.send(r), r, "alice", "alice", 1)
	if a := evil.send(r); a.code != 403 {
		t.Errorf("alice's AOR registered with From bob: %s, want 403", a.status)
	}
	if got := e.bridge.Registered("bob"); len(got) != 1 || got[0] != bound[0] {
		t.Errorf("bob's contacts at the end: %q", got)
	}
	// bob's own phone removes its binding with fresh credentials.
	reg.extra = []string{"Expires: 0"}
	reg.auth = login(t, ch, reg, "bob", "bob", 2)
	if a := phone.send(reg); a.code != 200 || len(e.bridge.Registered("bob")) != 0 {
		t.Errorf("bob's own unregister: %s, contacts %q", a.status, e.bridge.Registered("bob"))
	}
}

// TestPeerEnumeration: the answers to a known user (alice) and an unknown
// one (dave) have the same shape: a challenge with the same headers
// without credentials, 403 after a wrong password, for INVITE and
// REGISTER; and calls to a user or to an unknown number are challenged
// alike before anything is said about them.
func TestPeerEnumeration(t *testing.T) {
	testpeer.SkipShort(t, "real SIP traffic")
	e := startEnv(t, nil)
	srv := e.bridge.Addr()
	p := newProbe(t, "127.0.0.2", srv)
	shape := func(a *sipAnswer) string {
		var names []string
		for _, n := range a.names {
			if n != "call-id" && n != "from" && n != "to" && n != "via" && n != "cseq" {
				names = append(names, n)
			}
		}
		return a.status + " " + strings.Join(names, ",")
	}
	for _, method := range []string{"INVITE", "REGISTER"} {
		var first, second []string
		for _, who := range []string{"alice", "dave"} {
			to := who
			ruri := "sip:" + who + "@" + srv
			if method == "INVITE" {
				to, ruri = "bob", "sip:bob@"+srv
			} else {
				ruri = "sip:" + srv
			}
			r := sipReq{method: method, ruri: ruri, from: who, to: to}
			ch := p.send(r)
			first = append(first, shape(ch))
			r.auth = login(t, ch, r, who, "wrong", 1)
			second = append(second, shape(p.send(r)))
		}
		if first[0] != first[1] || second[0] != second[1] {
			t.Errorf("%s: alice %q then %q; dave %q then %q", method, first[0], second[0], first[1], second[1])
		} else {
			t.Logf("%s: both %q then %q", method, first[0], second[0])
		}
	}
	a1 := p.send(sipReq{method: "INVITE", from: "dave", to: "carol"})
	a2 := p.send(sipReq{method: "INVITE", from: "dave", to: "nobody"})
	if shape(a1) != shape(a2) || a1.code != 407 {
		t.Errorf("INVITE to a user %q, to an unknown name %q", shape(a1), shape(a2))
	}
}

// TestPeerDigestSHA256: with the default algorithms a 401 carries two
// challenges on one nonce, SHA-256 first then MD5 (RFC 7616 3.7); a
// phone answering the SHA-256 one registers, and so does one answering
// MD5.
func TestPeerDigestSHA256(t *testing.T) {
	testpeer.SkipShort(t, "real SIP traffic")
	e := startEnv(t, func(o *Options) { o.DigestAlgorithms = nil })
	srv := e.bridge.Addr()
	for i, alg := range []string{AlgSHA256, AlgMD5} {
		p := newProbe(t, "127.0.0.1", srv)
		reg := sipReq{method: "REGISTER", ruri: "sip:" + srv, from: "carol", to: "carol", extra: []string{"Expires: 600"}}
		ch := p.send(reg)
		chs := ch.headers["www-authenticate"]
		if ch.code != 401 || len(chs) != 2 || !strings.Contains(chs[0], "algorithm=SHA-256") || !strings.Contains(chs[1], "algorithm=MD5") {
			t.Fatalf("challenge: %s %q", ch.status, chs)
		}
		reg.auth = answer(t, chs[i], "carol", "carol", "REGISTER", reg.ruri, 1)
		if !strings.Contains(reg.auth, "algorithm="+alg) {
			t.Fatalf("answer %q is not %s", reg.auth, alg)
		}
		if a := p.send(reg); a.code != 200 {
			t.Errorf("REGISTER answering %s: %s", alg, a.status)
		}
	}
	if n := len(e.bridge.Registered("carol")); n != 2 {
		t.Errorf("carol has %d contacts, want 2", n)
	}
}
