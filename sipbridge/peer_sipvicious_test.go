package sipbridge

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/throttle"
)

// TestPeerSipviciousSvwar: sipvicious' svwar, forced to scan although
// every name is challenged alike, finds none of the users (alice, bob,
// carol) by INVITE or REGISTER.
func TestPeerSipviciousSvwar(t *testing.T) {
	testpeer.SkipShort(t, "real SIP traffic")
	testpeer.Require(t, "svwar")
	e := startEnv(t, nil)
	_, port, _ := strings.Cut(e.bridge.Addr(), ":")
	dict := filepath.Join(t.TempDir(), "names")
	if err := os.WriteFile(dict, []byte("alice\nbob\ncarol\ndave\neve\nadmin\n100\n1000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{"INVITE", "REGISTER"} {
		out, err := testpeer.Run(t, 60*time.Second, "svwar", "--force", "-m", method, "-d", dict, "-p", port,
			"-P", strconv.Itoa(testpeer.FreePort(t)), "127.0.0.1")
		if err != nil && !strings.Contains(out, "found") {
			t.Fatalf("svwar -m %s: %v\n%s", method, err, out)
		}
		// Found extensions are rows of a table: "| alice | reqauth |".
		for _, u := range []string{"alice", "bob", "carol"} {
			if strings.Contains(out, "| "+u+" ") {
				t.Errorf("svwar -m %s found %s:\n%s", method, u, out)
			}
		}
		if !strings.Contains(out, "found nothing") {
			t.Errorf("svwar -m %s did not say it found nothing:\n%s", method, out)
		}
	}
}

// TestPeerSipviciousSvcrack: svcrack guesses alice's password from
// 127.0.0.1 for a few seconds, against a bridge whose throttle never
// slows (before) and one with the default back-off (after): guesses per
// second are the digest checks actually computed. alice's own phone on
// another address still registers during the attack.
func TestPeerSipviciousSvcrack(t *testing.T) {
	testpeer.SkipShort(t, "real SIP traffic")
	testpeer.Require(t, "svcrack")
	const window = 4 * time.Second
	rate := func(th *throttle.Throttle) (guesses, refused uint64, e *env) {
		e = startEnv(t, func(o *Options) {
			o.Throttle = th
			// Not the demo password: svcrack tries the user name first.
			o.Credentials = passwordCredentials("flashvox", map[string]string{"alice": "Lq9-not-in-the-range"})
		})
		_, port, _ := strings.Cut(e.bridge.Addr(), ":")
		p := testpeer.Start(t, 30*time.Second, "svcrack", "-u", "alice", "-r", "100000-999999", "-p", port,
			"-P", strconv.Itoa(testpeer.FreePort(t)), "127.0.0.1")
		// The measurement is a fixed window of the attack.
		select {
		case <-p.Done():
			t.Fatalf("svcrack stopped early:\n%s", p.Output())
		case <-time.After(window):
		}
		guesses, refused = e.bridge.Stats.AuthFailures.Load(), e.bridge.Stats.AuthThrottled.Load()
		p.Stop()
		return guesses, refused, e
	}
	never := throttle.New(throttle.Options{FreeFailures: 1 << 30, AccountFailures: 1 << 30})
	before, _, e0 := rate(never)
	// The guesses were real checks: from a dictionary holding it, svcrack
	// finds the password (first from a fresh address).
	dict := filepath.Join(t.TempDir(), "words")
	if err := os.WriteFile(dict, []byte("123456\npassword\nLq9-not-in-the-range\nqwerty\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, port, _ := strings.Cut(e0.bridge.Addr(), ":")
	out, err := testpeer.Run(t, 30*time.Second, "svcrack", "-u", "alice", "-d", dict, "-p", port,
		"-P", strconv.Itoa(testpeer.FreePort(t)), "127.0.0.1")
	if err != nil || !strings.Contains(out, "Lq9-not-in-the-range") {
		t.Fatalf("svcrack did not find the password in its dictionary (%v):\n%s", err, out)
	}
	after, refused, e := rate(nil)
	perSec := func(n uint64) float64 { return float64(n) / window.Seconds() }
	t.Logf("svcrack on one IP: %.0f guesses/s checked without back-off, %.1f guesses/s with the default throttle (%d more refused unchecked)",
		perSec(before), perSec(after), refused)
	if before < 100 {
		t.Errorf("without back-off only %d guesses were checked in %v: the attack did not run", before, window)
	}
	if after > 10 {
		t.Errorf("with the throttle %d guesses were checked in %v, want at most 10", after, window)
	}

	// A faster guesser than svcrack (Python, one guess per challenge): one
	// nonce, rising nonce-counts, a request as soon as the answer is in.
	fast := func(th *throttle.Throttle) (checked, sent int) {
		e := startEnv(t, func(o *Options) { o.Throttle = th })
		p := newProbe(t, "127.0.0.3", e.bridge.Addr())
		r := sipReq{method: "REGISTER", ruri: "sip:" + e.bridge.Addr(), from: "alice", to: "alice"}
		ch := p.send(r)
		end := time.Now().Add(window)
		for nc := 1; time.Now().Before(end); nc++ {
			r.auth = login(t, ch, r, "alice", "guess"+strconv.Itoa(nc), nc)
			p.send(r)
			sent++
		}
		return int(e.bridge.Stats.AuthFailures.Load()), sent
	}
	fb, sb := fast(throttle.New(throttle.Options{FreeFailures: 1 << 30, AccountFailures: 1 << 30}))
	fa, sa := fast(nil)
	t.Logf("Go guesser on one IP, one nonce: %.0f guesses/s checked without back-off (%d sent), %.1f guesses/s with the default throttle (%d sent)",
		perSec(uint64(fb)), sb, perSec(uint64(fa)), sa)
	if fa > 10 {
		t.Errorf("with the throttle the fast guesser had %d guesses checked in %v", fa, window)
	}

	// alice's phone elsewhere (svcrack sends from 127.0.0.1) is not locked out.
	phone := newProbe(t, "127.0.0.2", e.bridge.Addr())
	reg := sipReq{method: "REGISTER", ruri: "sip:" + e.bridge.Addr(), from: "alice", to: "alice", extra: []string{"Expires: 600"}}
	reg.auth = login(t, phone.send(reg), reg, "alice", "Lq9-not-in-the-range", 1)
	if a := phone.send(reg); a.code != 200 {
		t.Errorf("alice's own REGISTER during the attack: %s", a.status)
	}
}
