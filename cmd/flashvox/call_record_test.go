package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

// TestCallRecording: with call.record: all, a call between two headless
// phones (alice over RTMPT, 440 Hz; bob over RTMP, 880 Hz) is written to
// DATA_DIR/recordings as one WAV holding both tones, readable by the
// server's user and group only; the call's record names the file; the
// HTTP listener does not serve it.
func TestCallRecording(t *testing.T) {
	testpeer.SkipShort(t, "flashvox processes")
	s, admin := recordServer(t, "call:\n  record: all\n")
	r := tunnelCall(t, s, admin)
	if filepath.Base(filepath.Dir(r.Recording)) != "recordings" || !strings.HasPrefix(filepath.Base(r.Recording), "call-") ||
		!strings.HasSuffix(r.Recording, "-"+r.ID+".wav") {
		t.Fatalf("record names the recording %q", r.Recording)
	}
	st, err := os.Stat(r.Recording)
	if err != nil || st.Mode().Perm() != 0o640 {
		t.Fatalf("recording %v %v: want mode 0640", st, err)
	}
	a, b, secs := toneLevels(t, r.Recording, 440, 880)
	t.Logf("recording %s: %.1f s, 440 Hz %.1f dB, 880 Hz %.1f dB", r.Recording, secs, a, b)
	if a < -30 || b < -30 || secs < 3.5 || secs > 6 {
		t.Errorf("recording: %.1f s, 440 Hz %.1f dB, 880 Hz %.1f dB: want both tones over about 4 s", secs, a, b)
	}
	base := strings.TrimSuffix(s.api, "/api/v1")
	for _, path := range []string{"/" + filepath.Base(r.Recording), "/recordings/" + filepath.Base(r.Recording)} {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404 (recordings are not served)", path, res.StatusCode)
		}
	}
}

// TestCDRTransportRTMPT: alice's headless phone calls over the RTMPT
// tunnel, bob's answers over plain RTMP; the call's record names alice's
// transport rtmpt and bob's rtmp, and no recording (call.record is off).
func TestCDRTransportRTMPT(t *testing.T) {
	testpeer.SkipShort(t, "flashvox processes")
	s, admin := recordServer(t, "")
	r := tunnelCall(t, s, admin)
	if r.CallerTransport != "rtmpt" || r.CalleeTransport != "rtmp" || r.Mode != "relay" || r.Recording != "" {
		t.Errorf("record %+v: want rtmpt → rtmp, relay, no recording (call.record off)", r)
	}
}

// recordServer starts flashvox with a data_dir (SQLite records), alice
// (admin) and bob, and the extra configuration yaml; it returns the
// server and alice's admin token.
func recordServer(t *testing.T, yaml string, env ...string) (*server, string) {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "flashvox.yaml")
	text := "users:\n  - {name: alice, password: alice, role: admin}\n  - {name: bob, password: bob}\n  - {name: carol, password: carol}\n" + yaml
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	env = append([]string{"FLASHVOX_DATA_DIR=" + t.TempDir(), "FLASHVOX_CALL_RING_TIMEOUT=10s"}, env...)
	s := startFlashvoxWith(t, env, "--config", cfg)
	return s, s.loginAs(t, "alice", "alice")
}

// cdrRecord is one call record as GET /admin/cdr gives it.
type cdrRecord struct {
	ID, Caller, Callee, CallerTransport, CalleeTransport, Mode, Recording string
	CallerCodec, CalleeCodec                                              string
}

// tunnelCall has alice (440 Hz, over RTMPT) call bob (880 Hz, over RTMP)
// for 4 s and returns the call's record.
func tunnelCall(t *testing.T, s *server, admin string) cdrRecord {
	t.Helper()
	httpAddr := strings.TrimSuffix(strings.TrimPrefix(s.api, "http://"), "/api/v1")
	tunnel := *s
	tunnel.phoneURL = "rtmpt://" + httpAddr + "/phone"
	bob := s.phone(t, "bob", "answer", "--play", writeTone(t, 880), "--codec", "nellymoser", "--timeout", "20s")
	watcher := s.login(t, "carol")
	watcher.waitOnline("bob", 10*time.Second)
	alice := tunnel.phone(t, "alice", "call", "bob", "--play", writeTone(t, 440), "--duration", "4s", "--codec", "nellymoser")
	if code, out := alice.wait(t, 20*time.Second); code != 0 {
		t.Fatalf("alice exit %d: %s", code, out)
	}
	bob.wait(t, 5*time.Second)
	var page struct{ Records []cdrRecord }
	testwait.For(t, 5*time.Second, "the call's record", func() bool {
		code, body := adminGet(t, s, admin, "/admin/cdr", nil)
		return code == 200 && json.Unmarshal([]byte(body), &page) == nil && len(page.Records) == 1
	})
	t.Logf("record: %+v", page.Records[0])
	return page.Records[0]
}

// TestCallRecordingSurvivesKill: the server is SIGKILLed 4 s into a
// recorded call; the WAV it leaves is whole up to its last checkpoint
// (its header's sizes), holds both tones and at least 3 s.
func TestCallRecordingSurvivesKill(t *testing.T) {
	testpeer.SkipShort(t, "flashvox processes")
	data := t.TempDir()
	s, _ := recordServer(t, "call:\n  record: all\n", "FLASHVOX_DATA_DIR="+data)
	bob := s.phone(t, "bob", "answer", "--play", writeTone(t, 880), "--codec", "speex", "--timeout", "30s")
	watcher := s.login(t, "carol")
	watcher.waitOnline("bob", 10*time.Second)
	alice := s.phone(t, "alice", "call", "bob", "--play", writeTone(t, 440), "--duration", "20s", "--codec", "nellymoser")
	var path string
	testwait.For(t, 20*time.Second, "4 s of the call in its recording", func() bool {
		files, _ := filepath.Glob(filepath.Join(data, "recordings", "call-*.wav"))
		if len(files) != 1 {
			return false
		}
		st, err := os.Stat(files[0])
		path = files[0]
		return err == nil && st.Size() > 44+4*16000*2
	})
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	alice.wait(t, 15*time.Second)
	bob.wait(t, 15*time.Second)
	a, b, secs := toneLevels(t, path, 440, 880)
	t.Logf("after SIGKILL: %s holds %.1f s, 440 Hz %.1f dB, 880 Hz %.1f dB", path, secs, a, b)
	if a < -30 || b < -30 {
		t.Errorf("recording after SIGKILL: 440 Hz %.1f dB, 880 Hz %.1f dB: want both tones", a, b)
	}
}
