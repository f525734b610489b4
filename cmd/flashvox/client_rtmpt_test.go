package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

// TestClientPhoneOverRTMPT: alice's headless phone reaches the server
// through the RTMPT tunnel on the HTTP listener, bob's over plain RTMP; each
// hears the other's tone.
func TestClientPhoneOverRTMPT(t *testing.T) {
	testpeer.SkipShort(t, "flashvox processes")
	s := startFlashvox(t)
	httpAddr := strings.TrimSuffix(strings.TrimPrefix(s.api, "http://"), "/api/v1")
	tunnel := *s
	tunnel.phoneURL = "rtmpt://" + httpAddr + "/phone"
	dir := t.TempDir()
	aRec, bRec := filepath.Join(dir, "alice.wav"), filepath.Join(dir, "bob.wav")
	bob := s.phone(t, "bob", "answer", "--play", writeTone(t, 880), "--record", bRec, "--codec", "nellymoser", "--timeout", "20s")
	carol := s.login(t, "carol")
	carol.waitOnline("bob", 10*time.Second)
	alice := tunnel.phone(t, "alice", "call", "bob", "--play", writeTone(t, 440), "--record", aRec, "--duration", "4s", "--codec", "nellymoser")
	if code, out := alice.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("alice exit %d: %s", code, out)
	}
	if code, out := bob.wait(t, 5*time.Second); code != 0 {
		t.Fatalf("bob exit %d: %s", code, out)
	}
	for _, r := range []struct {
		who, path   string
		want, other float64
	}{{"bob (rtmp)", bRec, 440, 880}, {"alice (rtmpt)", aRec, 880, 440}} {
		w, o, secs := toneLevels(t, r.path, r.want, r.other)
		t.Logf("%s heard %.1f s: %v Hz %.1f dB, %v Hz %.1f dB", r.who, secs, r.want, w, r.other, o)
		if w < -20 || w-o < 20 {
			t.Errorf("%s must hear %v Hz", r.who, r.want)
		}
	}
	// The tunnel's connection is logged with its transport when it closes,
	// which may be a moment after the phone process has exited, or, when
	// the phone's close request did not make it within its 2 s (a loaded
	// machine), when rtmp.rtmpt_idle_timeout (30 s) ends the session.
	testwait.For(t, 40*time.Second, "a connection logged with transport=rtmpt", func() bool { return strings.Contains(s.logs.String(), "transport=rtmpt") })
}
