package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

// TestAdminDashboardServer: the server as shipped (SQLite store) serves
// the dashboard and its live view: a call between two headless phone
// processes shows with its codecs, the admin hangs it up over the API, both
// phones exit with "admin (by alice)", the record says so; a user's token
// gets 403 on the live view, the actions and the page.
func TestAdminDashboardServer(t *testing.T) {
	testpeer.SkipShort(t, "flashvox processes")
	cfg := filepath.Join(t.TempDir(), "flashvox.yaml")
	if err := os.WriteFile(cfg, []byte("users:\n  - {name: alice, password: alice, role: admin}\n  - {name: bob, password: bob}\n  - {name: carol, password: carol}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startFlashvoxWith(t, []string{"FLASHVOX_DATA_DIR=" + t.TempDir(), "FLASHVOX_CALL_RING_TIMEOUT=10s"}, "--config", cfg)
	admin, user := s.loginAs(t, "alice", "alice"), s.loginAs(t, "bob", "bob")
	res, err := http.Get(strings.TrimSuffix(s.api, "/api/v1") + "/admin")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), `id="login-form"`) {
		t.Fatalf("GET /admin: %d", res.StatusCode)
	}
	bob := s.phone(t, "bob", "answer", "--timeout", "20s")
	var live struct {
		Users []struct{ Name string }
		Calls []struct{ ID, State, FromCodec, ToCodec string }
	}
	testwait.For(t, 10*time.Second, "bob online in the live view", func() bool {
		code, _ := adminGet(t, s, admin, "/admin/live", &live)
		return code == 200 && len(live.Users) == 1 && live.Users[0].Name == "bob"
	})
	alice := s.phone(t, "alice", "call", "bob", "--timeout", "20s")
	testwait.For(t, 10*time.Second, "the call with both codecs in the live view", func() bool {
		code, _ := adminGet(t, s, admin, "/admin/live", &live)
		return code == 200 && len(live.Calls) == 1 && live.Calls[0].State == "active" && live.Calls[0].FromCodec == "speex" && live.Calls[0].ToCodec == "speex"
	})
	id := live.Calls[0].ID
	for _, r := range [][2]string{{"GET", "/api/v1/admin/live"}, {"GET", "/api/v1/admin/history"}, {"POST", "/api/v1/admin/calls/" + id + "/hangup"}, {"GET", "/admin"}} {
		if code := adminDo(t, s, user, r[0], r[1]); code != 403 {
			t.Errorf("user %s %s: %d", r[0], r[1], code)
		}
	}
	if code := adminDo(t, s, admin, "POST", "/api/v1/admin/calls/"+id+"/hangup"); code != 204 {
		t.Fatalf("hangup: %d", code)
	}
	for name, p := range map[string]*phoneProc{"alice": alice, "bob": bob} {
		if code, out := p.wait(t, 10*time.Second); code != 1 || !strings.Contains(out, "admin (by alice)") {
			t.Errorf("%s's phone: exit %d\n%s", name, code, out)
		}
	}
	var page cdrPage
	testwait.For(t, 5*time.Second, "the call's record", func() bool {
		code, _ := adminGet(t, s, admin, "/admin/cdr", &page)
		return code == 200 && len(page.Records) == 1
	})
	if r := page.Records[0]; r.ID != id || r.Reason != "admin" || r.EndedBy != "alice" || r.EndEvent != "bye" {
		t.Errorf("record %+v", r)
	}
}

// adminDo sends an empty request to path (from the server's root) with
// token and returns the status.
func adminDo(t *testing.T, s *server, token, method, path string) int {
	t.Helper()
	root := strings.TrimSuffix(s.api, "/api/v1")
	req, _ := http.NewRequest(method, root+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	_ = json.NewDecoder(res.Body).Decode(&struct{}{})
	return res.StatusCode
}
