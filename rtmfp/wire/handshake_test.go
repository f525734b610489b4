package wire

import (
	"bytes"
	"math/big"
	"net/netip"
	"path/filepath"
	"testing"
	"time"
)

func TestDHGroups(t *testing.T) {
	for _, g := range dhGroups {
		if !g.p.ProbablyPrime(8) {
			t.Errorf("group %d modulus not prime", g.id)
		}
		a, _ := newDHKey(g)
		b, _ := newDHKey(g)
		s1, err1 := a.shared(b.pub)
		s2, err2 := b.shared(a.pub)
		if err1 != nil || err2 != nil || !bytes.Equal(s1, s2) {
			t.Errorf("group %d: secrets differ (%v %v)", g.id, err1, err2)
		}
	}
}

func TestValidatePublic(t *testing.T) {
	g := group2
	pm := new(big.Int).Sub(g.p, big.NewInt(1))
	for _, c := range []struct {
		name string
		y    []byte
	}{
		{"zero", []byte{0}},
		{"one", []byte{1}},
		{"2^24-1", []byte{0xff, 0xff, 0xff}},
		{"p-1", pm.Bytes()},
		{"p", g.p.Bytes()},
		{"few zeros", bytes.Repeat([]byte{0xff}, 64)},
		{"few ones", append([]byte{0x01}, make([]byte, 100)...)},
		{"too long", make([]byte, 300)},
	} {
		if _, err := validatePublic(g, c.y); err == nil {
			t.Errorf("%s accepted", c.name)
		}
	}
	k, _ := newDHKey(g)
	if _, err := validatePublic(g, k.pub); err != nil {
		t.Errorf("a real key refused: %v", err)
	}
}

func TestCookie(t *testing.T) {
	now := time.Unix(1000, 0)
	j := NewCookieJar(now)
	a := netip.MustParseAddrPort("127.0.0.1:5000")
	b := netip.MustParseAddrPort("127.0.0.1:5001")
	c := j.Make(now.Add(3*time.Second), a)
	for _, tc := range []struct {
		name   string
		at     time.Time
		cookie []byte
		addr   netip.AddrPort
		want   CookieResult
	}{
		{"ok", now.Add(4 * time.Second), c, a, CookieOK},
		{"other address", now.Add(4 * time.Second), c, b, CookieMismatch},
		{"expired", now.Add(3*time.Second + cookieLifetime + 2*time.Second), c, a, CookieBad},
		{"tampered", now.Add(4 * time.Second), append(append([]byte{}, c[:10]...), append([]byte{c[10] ^ 1}, c[11:]...)...), a, CookieBad},
		{"short", now, c[:20], a, CookieBad},
		{"other server", now, NewCookieJar(now).Make(now, a), a, CookieBad},
	} {
		if got := j.Check(tc.at, tc.cookie, tc.addr); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestNegotiation(t *testing.T) {
	for _, c := range []struct {
		name     string
		us       negotiated
		peer     uint8
		ok       bool
		send, rq bool
	}{
		{"neither", negotiated{}, negSendOnRequest, true, false, false},
		{"flash (no option)", negotiated{}, 0, true, false, false},
		{"peer sends and requires", negotiated{}, negSendAlways | negSendOnRequest | negRequire, true, true, true},
		{"we require, peer sends on request", negotiated{recvRequired: true}, negSendOnRequest, true, false, true},
		{"we require, peer never sends", negotiated{recvRequired: true}, 0, false, false, true},
	} {
		got, ok := c.us.with(c.peer)
		if ok != c.ok || (ok && (got.sendAlways != c.send || got.recvRequired != c.rq)) {
			t.Errorf("%s: %+v %v", c.name, got, ok)
		}
	}
}

// TestKeyingAgreement runs both halves of keying (ours) for each group
// and policy: the two ends derive crossed keys and the same nonces.
func TestKeyingAgreement(t *testing.T) {
	for _, g := range dhGroups {
		for _, pol := range []Policy{{}, {RequireHMAC: true, RequireSeq: true}} {
			srv := NewIdentity(bytes.Repeat([]byte{1}, 64), true)
			rc, err := ParsePeerCert(srv.Cert)
			if err != nil {
				t.Fatal(err)
			}
			rc.groups = []uint64{g.id} // force the group
			ik, err := NewInitiatorKeying(rc, pol)
			if err != nil {
				t.Fatal(err)
			}
			cli := NewIdentity(bytes.Repeat([]byte{2}, 64), false)
			ic, _ := ParsePeerCert(cli.Cert)
			skrc, rkeys, err := RespondKeying(ik.SKIC, ic, pol)
			if err != nil {
				t.Fatalf("group %d %+v: respond: %v", g.id, pol, err)
			}
			ikeys, err := ik.Finish(skrc, rc)
			if err != nil {
				t.Fatalf("group %d %+v: finish: %v", g.id, pol, err)
			}
			if !bytes.Equal(ikeys.NearNonce, rkeys.FarNonce) || !bytes.Equal(ikeys.FarNonce, rkeys.NearNonce) {
				t.Errorf("group %d: nonces do not cross", g.id)
			}
			plain := packetCases[2].AppendTo(nil)
			d := ikeys.Crypto.Seal(nil, 5, plain)
			got, err := rkeys.Crypto.Open(nil, d[4:])
			if err != nil || !bytes.HasPrefix(got, plain) {
				t.Errorf("group %d %+v: initiator→responder: %v", g.id, pol, err)
			}
			d = rkeys.Crypto.Seal(nil, 5, plain)
			if got, err := ikeys.Crypto.Open(nil, d[4:]); err != nil || !bytes.HasPrefix(got, plain) {
				t.Errorf("group %d %+v: responder→initiator: %v", g.id, pol, err)
			}
			if pol.RequireHMAC != (rkeys.Crypto.hmacRx != nil) || pol.RequireSeq != rkeys.Crypto.seqRx {
				t.Errorf("policy %+v not applied: %+v", pol, rkeys.Crypto)
			}
		}
	}
}

func TestRespondKeyingRefuses(t *testing.T) {
	cli := NewIdentity(bytes.Repeat([]byte{2}, 64), false)
	ic, _ := ParsePeerCert(cli.Cert)
	weak := AppendOption(nil, keyPublicKey, append(AppendVLU(nil, 2), 1))
	other := AppendOption(nil, keyPublicKey, append(AppendVLU(nil, 5), bytes.Repeat([]byte{0x5a}, 192)...))
	for name, skic := range map[string][]byte{"weak key": weak, "group 5": other, "no key": AppendOption(nil, keyExtraRandomness, []byte{1}), "garbage": {0x7f}} {
		if _, _, err := RespondKeying(skic, ic, Policy{}); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	// We require HMAC; the initiator will not send it.
	ik, _ := NewInitiatorKeying(&PeerCert{groups: []uint64{2}}, Policy{})
	noHMAC := AppendOption(AppendOption(nil, keyPublicKey, append(AppendVLU(nil, 2), ik.key.pub...)), keyHMAC, []byte{0})
	if _, _, err := RespondKeying(noHMAC, ic, Policy{RequireHMAC: true}); err == nil {
		t.Error("HMAC requirement not enforced")
	}
}

func TestIdentity(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rtmfp.id")
	a, err := LoadIdentity(path, true)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadIdentity(path, true)
	if err != nil {
		t.Fatal(err)
	}
	if a.Fingerprint != b.Fingerprint {
		t.Error("fingerprint changed across loads")
	}
	c, err := ParsePeerCert(a.Cert)
	if err != nil || c.Fingerprint != a.Fingerprint || !c.supports(2) || !c.supports(14) || !c.ancillary {
		t.Errorf("own certificate: %+v %v", c, err)
	}
	for _, tc := range []struct {
		epd  EPD
		want bool
	}{
		{EPD{Ancillary: []byte("rtmfp://x/app")}, true},
		{EPD{Fingerprint: a.Fingerprint[:]}, true},
		{EPD{Fingerprint: bytes.Repeat([]byte{1}, 32)}, false},
		{EPD{Hostname: []byte("x")}, false},
	} {
		var e EPD
		if err := e.Unmarshal(tc.epd.AppendTo(nil)); err != nil {
			t.Fatal(err)
		}
		if got := a.Selects(&e); got != tc.want {
			t.Errorf("selects(%+v) = %v", tc.epd, got)
		}
	}
}
