package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/passhash"
	"github.com/flashvox/flashvox/internal/test/netns"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

// natServer is a flashvox process in the WAN namespace of a TwoNATs
// topology: RTMFP, RTMP and HTTP on netns.ServerIP (fixed ports are free:
// the namespace is this test's own).
const (
	natRTMFP = netns.ServerIP + ":1935"
	natHTTP  = netns.ServerIP + ":8080"
)

// natPasswords are the users of the NAT server. Its listeners are not on
// loopback, so plaintext passwords are refused: natConfig hashes them.
var natPasswords = map[string]string{"alice": "alice-behind-nat1", "bob": "bob-behind-nat2", "carol": "carol-on-the-wan"}

// natConfig is the server's users: list, hashed as `flashvox passwd` does.
func natConfig() string {
	s := "users:\n"
	for _, u := range []string{"alice", "bob", "carol"} {
		s += fmt.Sprintf("  - {name: %s, password_hash: %q}\n", u, passhash.New(natPasswords[u], passhash.Default).String())
	}
	return s + "apps:\n  - {name: phone}\n"
}

// TestPeerP2PBehindNATs: two `flashvox client --p2p` processes, each in
// its own LAN behind its own NAT router (network namespaces, nftables
// masquerade), call each other through a flashvox process on the "WAN".
// Behind cone-like NATs the server's introduction (Redirect to the caller,
// forwarded IHello to the callee) punches both NATs: each phone prints
// `media: p2p`, each one's direct session comes from the other router's
// public address, and the tones cross both ways. Behind symmetric NATs
// (a new random port per destination) the punch cannot work: both fall
// back to relay and the tones still cross.
func TestPeerP2PBehindNATs(t *testing.T) {
	bin := flashvoxBin(t)
	t.Run("cone", func(t *testing.T) {
		r := natCall(t, bin, netns.NATOptions{})
		for _, p := range []struct{ who, out, far string }{{"alice", r.alice, netns.Public2}, {"bob", r.bob, netns.Public1}} {
			if !regexp.MustCompile(`(?m)^media: p2p$`).MatchString(p.out) {
				t.Errorf("%s did not print media: p2p:\n%s", p.who, p.out)
			}
			// The session the far phone opened to us by our peer ID: its
			// address is the far NAT's public side, not the server's.
			m := regexp.MustCompile(`msg="peer connected directly" .*addr=(\S+)`).FindStringSubmatch(p.out)
			if m == nil || !strings.HasPrefix(m[1], p.far+":") {
				t.Errorf("%s: direct session from %v, want %s:PORT (the other NAT's public address)", p.who, m, p.far)
			} else {
				t.Logf("%s: direct session from %s", p.who, m[1])
			}
		}
		if r.intros < 1 {
			t.Errorf("introductions_total %v, want ≥ 1", r.intros)
		}
		if r.relayed != 0 {
			t.Errorf("the server relayed %v frames of a p2p call", r.relayed)
		}
	})
	t.Run("symmetric", func(t *testing.T) {
		r := natCall(t, bin, netns.NATOptions{Symmetric: true})
		for _, p := range []struct{ who, out string }{{"alice", r.alice}, {"bob", r.bob}} {
			if !regexp.MustCompile(`(?m)^media: relay$`).MatchString(p.out) {
				t.Errorf("%s did not print media: relay:\n%s", p.who, p.out)
			}
			if strings.Contains(p.out, "peer connected directly") {
				t.Errorf("%s: a direct session came up through symmetric NATs:\n%s", p.who, p.out)
			}
		}
		if r.intros < 1 { // the server did introduce them; the punch failed
			t.Errorf("introductions_total %v, want ≥ 1", r.intros)
		}
		if r.relayed == 0 {
			t.Error("the relay carried nothing")
		}
	})
}

type natResult struct {
	alice, bob string  // each phone's output (stdout and -v log)
	intros     float64 // flashvox_rtmfp_introductions_total
	relayed    float64 // flashvox_hub_frames_in_total: audio the server carried
}

// natCall builds the topology, starts the server and bob (answering) and
// has alice call bob for 7 s, both with --p2p; it checks that each heard
// the other's tone and returns the outputs and the server's introductions.
func natCall(t *testing.T, bin string, opts netns.NATOptions) natResult {
	tn := netns.NewTwoNATs(t, opts)
	testpeer.Require(t, "curl")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "flashvox.yaml")
	if err := os.WriteFile(cfg, []byte(natConfig()), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := tn.Start(2*time.Minute, tn.WAN, "env", "FLASHVOX_RTMFP_LISTEN="+natRTMFP, "FLASHVOX_RTMP_LISTEN="+natRTMFP,
		"FLASHVOX_HTTP_LISTEN="+natHTTP, "FLASHVOX_SIP_LISTEN=127.0.0.1:5060", "FLASHVOX_CALL_RING_TIMEOUT=20s", bin, "--config", cfg)
	testwait.ForDetail(t, 15*time.Second, "the server ready in "+tn.WAN, func() bool {
		_, err := nsHTTP(tn, "GET", "/healthz", "", "")
		return err == nil || srv.Exited()
	}, srv.Output)
	if srv.Exited() {
		t.Fatalf("server exited:\n%s", srv.Output())
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", srv.Output())
		}
	})
	aRec, bRec := filepath.Join(dir, "alice.wav"), filepath.Join(dir, "bob.wav")
	phone := func(ns, user string, args ...string) *testpeer.Proc {
		return tn.Start(time.Minute, ns, append([]string{bin, "client", "--server", "rtmfp://" + natRTMFP + "/phone",
			"--user", user, "--password", natPassword(user), "--p2p", "-v"}, args...)...)
	}
	bob := phone(tn.LAN2, "bob", "answer", "--play", writeTone(t, 880), "--record", bRec, "--codec", "nellymoser", "--timeout", "40s")
	waitOnline(t, tn, "bob", bob)
	alice := phone(tn.LAN1, "alice", "call", "bob", "--play", writeTone(t, 440), "--record", aRec, "--duration", "7s", "--codec", "speex", "--timeout", "20s")
	for _, p := range []struct {
		who  string
		proc *testpeer.Proc
	}{{"alice", alice}, {"bob", bob}} {
		select {
		case <-p.proc.Done():
		case <-time.After(40 * time.Second):
			t.Fatalf("%s did not finish:\n%s", p.who, p.proc.Output())
		}
		if err := p.proc.Wait(); err != nil {
			t.Fatalf("%s: %v:\n%s", p.who, err, p.proc.Output())
		}
	}
	for _, c := range []struct {
		who, rec    string
		want, other float64
	}{{"bob", bRec, 440, 880}, {"alice", aRec, 880, 440}} {
		w, o, secs := toneLevels(t, c.rec, c.want, c.other)
		t.Logf("%s heard %.1f s: %v Hz %.1f dB, %v Hz %.1f dB", c.who, secs, c.want, w, c.other, o)
		if w < -20 || w-o < 20 {
			t.Errorf("%s must hear %v Hz", c.who, c.want)
		}
	}
	metrics, err := nsHTTP(tn, "GET", "/metrics", "", "")
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	r := natResult{alice: alice.Output(), bob: bob.Output(),
		intros: metric(t, metrics, "flashvox_rtmfp_introductions_total"), relayed: metric(t, metrics, "flashvox_hub_frames_in_total")}
	t.Logf("introductions %v, frames relayed by the hub %v", r.intros, r.relayed)
	return r
}

// metric is the value of an unlabelled metric in a /metrics page.
func metric(t *testing.T, page, name string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no %s in /metrics:\n%s", name, page)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

// natPassword is user's password in natConfig.
func natPassword(user string) string { return natPasswords[user] }

// nsHTTP makes a request to the server from inside the WAN namespace
// (curl there: the test process itself has no route into it).
func nsHTTP(tn *netns.TwoNATs, method, path, token, body string) (string, error) {
	args := []string{"curl", "-sS", "-f", "--max-time", "10", "-X", method}
	if token != "" {
		args = append(args, "-H", "Authorization: Bearer "+token)
	}
	if body != "" {
		args = append(args, "-H", "Content-Type: application/json", "--data", body)
	}
	url := "http://" + natHTTP + path
	if strings.HasPrefix(path, "/") && path != "/healthz" && path != "/metrics" {
		url = "http://" + natHTTP + "/api/v1" + path
	}
	out, err := tn.Command(tn.WAN, append(args, url)...).Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", method, path, err)
	}
	return string(out), nil
}

// waitOnline waits until user's phone is connected (presence, seen by
// carol through the HTTP API).
func waitOnline(t *testing.T, tn *netns.TwoNATs, user string, p *testpeer.Proc) {
	t.Helper()
	out, err := nsHTTP(tn, "POST", "/login", "", `{"user":"carol","password":"`+natPassword("carol")+`"}`)
	var login struct{ Token string }
	if err != nil || json.Unmarshal([]byte(out), &login) != nil || login.Token == "" {
		t.Fatalf("login: %v %s", err, out)
	}
	var last string
	testwait.ForDetail(t, 15*time.Second, user+" online", func() bool {
		o, err := nsHTTP(tn, "GET", "/presence", login.Token, "")
		last = fmt.Sprint(o, err)
		var pres struct{ Users map[string]string }
		return err == nil && json.Unmarshal([]byte(o), &pres) == nil && pres.Users[user] == "online"
	}, func() string { return last + "\n" + p.Output() })
}
