package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testwait"
)

// presenceSeen returns the presence events u's log has from its cursor
// on (user -> last status), moving the cursor.
func (u *httpUser) presenceSeen() map[string]string {
	var page struct {
		Cursor uint64
		Events []struct{ Type, User, Status string }
	}
	u.do("GET", fmt.Sprintf("/events?cursor=%d", u.cursor), "", &page)
	u.cursor = page.Cursor
	out := map[string]string{}
	for _, e := range page.Events {
		if e.Type == "presence" {
			out[e.User] = e.Status
		}
	}
	return out
}

// TestContacts: alice lists bob only: bob is told alice came online, carol
// (not in alice's list, no list of her own) is not, and her presence
// snapshot lacks alice, also after a restart (the lists are in the
// store). Hostile: no token, a list for someone else, too many names,
// names that are not user names.
func TestContacts(t *testing.T) {
	env := []string{"FLASHVOX_DATA_DIR=" + t.TempDir()}
	cfg := filepath.Join(t.TempDir(), "flashvox.yaml")
	if err := os.WriteFile(cfg, []byte("users:\n  - {name: alice, password: alice}\n  - {name: bob, password: bob}\n  - {name: carol, password: carol}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startFlashvoxWith(t, env, "--config", cfg)
	alice := &httpUser{t: t, s: s, token: s.loginAs(t, "alice", "alice")} // not online: no device yet
	var got struct {
		Contacts []string
		Set      bool
	}
	if code := alice.do("GET", "/contacts", "", &got); code != 200 || got.Set {
		t.Fatalf("alice's list before any: %d %+v", code, got)
	}
	if code := alice.do("PUT", "/contacts", `{"contacts":["bob"]}`, &got); code != 200 || !got.Set || len(got.Contacts) != 1 {
		t.Fatalf("PUT: %d %+v", code, got)
	}
	bob, carol := s.login(t, "bob"), s.login(t, "carol")
	alice.do("GET", "/events", "", nil) // alice comes online (her HTTP device)
	testwait.For(t, 5*time.Second, "bob told alice is online", func() bool { return bob.presenceSeen()["alice"] == "online" })
	if st, ok := carol.presenceSeen()["alice"]; ok {
		t.Errorf("carol was told alice is %s", st)
	}
	snapshot := func(u *httpUser) map[string]string {
		var p struct{ Users map[string]string }
		u.do("GET", "/presence", "", &p)
		return p.Users
	}
	if p := snapshot(carol); p["alice"] != "" || p["bob"] != "online" {
		t.Errorf("carol's snapshot %v", p)
	}
	hostile := []struct{ token, method, body string }{
		{"", "GET", ""}, {"", "PUT", `{"contacts":[]}`}, {"v1.x.1." + strings.Repeat("0", 64), "PUT", `{"contacts":[]}`},
	}
	for _, h := range hostile {
		u := &httpUser{t: t, s: s, token: h.token}
		if code := u.do(h.method, "/contacts", h.body, nil); code != 401 {
			t.Errorf("%s without a valid token: %d", h.method, code)
		}
	}
	many := `{"contacts":["u0"` + strings.Repeat(`,"u"`, 1000) + `]}`
	for _, body := range []string{`{"user":"alice","contacts":["carol"]}`, `{"contacts":["a b"]}`, many, `{"contacts":null}`, `{}`} {
		if code := carol.do("PUT", "/contacts", body, nil); code != 400 {
			t.Errorf("PUT %.60s: %d, want 400", body, code)
		}
	}
	stopServer(t, s)
	s = startFlashvoxWith(t, env, "--config", cfg)
	carol = s.login(t, "carol")
	alice = s.login(t, "alice")
	if p := snapshot(carol); p["alice"] != "" || p["carol"] != "online" {
		t.Errorf("carol's snapshot after a restart: %v", p)
	}
	if code := alice.do("DELETE", "/contacts", "", nil); code != 204 {
		t.Fatalf("DELETE: %d", code)
	}
	if p := snapshot(carol); p["alice"] != "online" {
		t.Errorf("carol's snapshot once alice has no list: %v", p)
	}
}
