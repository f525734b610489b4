package main

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

// TestCDR: a call between two headless phones gives one record (parties,
// transports, each leg's codec and bytes, mode, a duration within 0.5 s
// of the call's) that the admin reads over HTTP (JSON and CSV), a
// non-admin gets 403; a room membership left gives a record (transport
// http, reason left); a call and a membership that SIGTERM ends are
// recorded with reason shutdown, and `flashvox cdr` prints them after the
// server stopped. On SQLite.
func TestCDR(t *testing.T) {
	testpeer.SkipShort(t, "flashvox processes")
	cdrScenario(t, []string{"FLASHVOX_DATA_DIR=" + t.TempDir()})
}

// TestPeerPostgresCDR: the same on PostgreSQL.
func TestPeerPostgresCDR(t *testing.T) {
	cdrScenario(t, []string{"FLASHVOX_DATABASE_URL=" + testpeer.StartPostgres(t).URL})
}

type cdrPage struct {
	Records []struct {
		ID, Caller, Callee, CallerTransport, CalleeTransport, Mode, EndEvent, Reason, EndedBy string
		CallerCodec, CalleeCodec                                                              string
		CallerBytes, CalleeBytes                                                              *int64
		Duration                                                                              float64
	}
	Next *int
}

// adminGet GETs path with token and decodes a JSON answer into out (if
// not nil); it returns the status and the body.
func adminGet(t *testing.T, s *server, token, path string, out any) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", s.api+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil {
		_ = json.Unmarshal(b, out)
	}
	return res.StatusCode, string(b)
}

func ptrVal(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

func cdrScenario(t *testing.T, env []string) {
	cfg := filepath.Join(t.TempDir(), "flashvox.yaml")
	if err := os.WriteFile(cfg, []byte("users:\n  - {name: alice, password: alice, role: admin}\n  - {name: bob, password: bob}\n  - {name: carol, password: carol}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env = append(env, "FLASHVOX_CALL_RING_TIMEOUT=10s")
	s := startFlashvoxWith(t, env, "--config", cfg)
	watcher := s.login(t, "carol")
	bob := s.phone(t, "bob", "answer", "--timeout", "20s")
	watcher.waitOnline("bob", 10*time.Second)
	start := time.Now()
	alice := s.phone(t, "alice", "call", "bob", "--duration", "2s", "--codec", "nellymoser")
	if code, out := alice.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("alice: %d %s", code, out)
	}
	bob.wait(t, 5*time.Second)
	admin := s.loginAs(t, "alice", "alice")
	var page cdrPage
	testwait.For(t, 5*time.Second, "the call's record", func() bool {
		code, body := adminGet(t, s, admin, "/admin/cdr", nil)
		return code == 200 && json.Unmarshal([]byte(body), &page) == nil && len(page.Records) == 1
	})
	r := page.Records[0]
	t.Logf("record: %+v, bytes %v→%v (the call took %.1f s from alice's start)", r, ptrVal(r.CallerBytes), ptrVal(r.CalleeBytes), time.Since(start).Seconds())
	if r.Caller != "alice" || r.Callee != "bob" || r.CallerTransport != "rtmp" || r.CalleeTransport != "rtmp" || r.Mode != "relay" ||
		r.EndEvent != "bye" || r.Reason != "hangup" || r.EndedBy != "alice" || math.Abs(r.Duration-2) > 0.5 {
		t.Errorf("record %+v", r)
	}
	// Each leg's codec and bytes, as the server relayed them (about 2 s of
	// audio each way: more than a second's worth of frames).
	if r.CallerCodec != "nellymoser" || r.CalleeCodec != "speex" || r.CallerBytes == nil || r.CalleeBytes == nil ||
		*r.CallerBytes < 1000 || *r.CalleeBytes < 1000 {
		t.Errorf("codecs and bytes: %+v (bytes %v %v)", r, ptrVal(r.CallerBytes), ptrVal(r.CalleeBytes))
	}
	for _, c := range []struct {
		token string
		want  int
	}{{s.loginAs(t, "bob", "bob"), 403}, {"", 401}, {"v1.x.1." + strings.Repeat("0", 64), 401}} {
		if code, body := adminGet(t, s, c.token, "/admin/cdr", nil); code != c.want {
			t.Errorf("token %q: %d %s, want %d", c.token, code, body, c.want)
		}
	}
	code, body := adminGet(t, s, admin, "/admin/cdr?format=csv&user=bob&from=2000-01-01T00:00:00Z", nil)
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if code != 200 || err != nil || len(rows) != 2 || rows[0][0] != "id" || rows[1][1] != "alice" {
		t.Errorf("CSV: %d %v %q", code, err, body)
	}
	if code, _ := adminGet(t, s, admin, "/admin/cdr?limit=0", nil); code != 400 {
		t.Errorf("limit=0: %d", code)
	}

	// A call that SIGTERM ends is recorded too.
	carol, bobHTTP := watcher, s.login(t, "bob")
	var inv struct{ Call string }
	carol.do("POST", "/calls", `{"to":"bob"}`, &inv)
	in := bobHTTP.expect("incoming", "", 5*time.Second)
	bobHTTP.do("POST", "/calls/"+in.Call+"/accept", "", nil)
	carol.expect("ringing", "", 5*time.Second)
	carol.expect("accepted", "", 5*time.Second)
	// Memberships: carol joins and leaves a room over HTTP; bob's
	// membership is ended by SIGTERM below (reason shutdown).
	for _, c := range []struct {
		u    *httpUser
		path string
	}{{carol, "join"}, {bobHTTP, "join"}, {carol, "leave"}} {
		if code := c.u.do("POST", "/conferences/standup/"+c.path, "", nil); code != 200 {
			t.Fatalf("conference %s: %d", c.path, code)
		}
	}
	var members struct {
		Records []struct{ Room, Member, Transport, Reason string }
	}
	testwait.For(t, 5*time.Second, "carol's membership record", func() bool {
		code, body := adminGet(t, s, admin, "/admin/cdr?kind=conference&party=carol", nil)
		return code == 200 && json.Unmarshal([]byte(body), &members) == nil && len(members.Records) == 1
	})
	if m := members.Records[0]; m.Room != "standup" || m.Transport != "http" || m.Reason != "left" {
		t.Errorf("carol's membership %+v", m)
	}

	stopServer(t, s)
	out, code := flashvoxCLI(t, env, "", "cdr", "--csv", "--config", cfg)
	rows, err = csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != 0 || err != nil || len(rows) != 3 || rows[1][0] != inv.Call || rows[1][14] != "shutdown" || rows[1][4] != "http" ||
		len(rows[0]) != 21 || rows[0][16] != "caller_bytes" {
		t.Fatalf("flashvox cdr after SIGTERM: %d %v\n%s", code, err, out)
	}
	if out, code := flashvoxCLI(t, env, "", "cdr", "--user", "carol", "--from", "1h", "--config", cfg); code != 0 || strings.Count(out, "\n") != 2 {
		t.Errorf("flashvox cdr --user carol: %d\n%s", code, out)
	}
	if out, code := flashvoxCLI(t, env, "", "cdr", "--user", "alice", "--config", cfg); code != 0 || !strings.Contains(out, "nellymoser→speex") {
		t.Errorf("flashvox cdr --user alice shows no codecs: %d\n%s", code, out)
	}
	if out, code := flashvoxCLI(t, env, "", "cdr", "--kind", "conference", "--user", "bob", "--csv", "--config", cfg); code != 0 ||
		!strings.Contains(out, ",standup,bob,http,") || !strings.Contains(out, ",shutdown,") {
		t.Errorf("flashvox cdr --kind conference (bob, ended by SIGTERM): %d\n%s", code, out)
	}
	// No page took part: the WebRTC sessions' table answers, empty.
	if out, code := flashvoxCLI(t, env, "", "cdr", "--kind", "webrtc", "--config", cfg); code != 0 || strings.Count(out, "\n") != 1 || !strings.Contains(out, "LOSS% IN/OUT") {
		t.Errorf("flashvox cdr --kind webrtc: %d\n%s", code, out)
	}
	if _, code := flashvoxCLI(t, env, "", "cdr", "--kind", "webrtcs", "--config", cfg); code == 0 {
		t.Error("flashvox cdr --kind webrtcs: accepted")
	}
}
