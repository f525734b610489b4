package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testwait"
)

// TestCDRTransportRTMPT: alice's headless phone calls over the RTMPT
// tunnel, bob's answers over plain RTMP; the call's record names alice's
// transport rtmpt and bob's rtmp.
func TestCDRTransportRTMPT(t *testing.T) {
	s, admin := recordServer(t, "")
	r := tunnelCall(t, s, admin)
	if r.CallerTransport != "rtmpt" || r.CalleeTransport != "rtmp" || r.Mode != "relay" {
		t.Errorf("record %+v: want rtmpt → rtmp, relay", r)
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
	CallerCodec, CalleeCodec                                             string
}

// tunnelCall has alice (440 Hz, over RTMPT) call bob (880 Hz, over RTMP)
// for 3 s and returns the call's record.
func tunnelCall(t *testing.T, s *server, admin string) cdrRecord {
	t.Helper()
	httpAddr := strings.TrimSuffix(strings.TrimPrefix(s.api, "http://"), "/api/v1")
	tunnel := *s
	tunnel.phoneURL = "rtmpt://" + httpAddr + "/phone"
	bob := s.phone(t, "bob", "answer", "--play", writeTone(t, 880), "--codec", "nellymoser", "--timeout", "20s")
	watcher := s.login(t, "carol")
	testwait.For(t, 10*time.Second, "bob's phone online", func() bool {
		var p struct{ Users map[string]string }
		watcher.do("GET", "/presence", "", &p)
		return p.Users["bob"] == "online"
	})
	alice := tunnel.phone(t, "alice", "call", "bob", "--play", writeTone(t, 440), "--duration", "3s", "--codec", "nellymoser")
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
