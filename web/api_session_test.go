package web

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/throttle"
)

func TestAPILogoutRevokesTheToken(t *testing.T) {
	e := newAPIEnv(t)
	tok := e.login("alice")
	other := account.MintToken(apiSecret, "alice", time.Now().Add(2*time.Hour))  // another session of alice
	site := account.MintToken(apiSecret, "site-user", time.Now().Add(time.Hour)) // minted by a site backend
	for _, tk := range []string{tok, site} {
		if code := e.do("GET", "/presence", tk, "", nil); code != 200 {
			t.Fatalf("before logout: %d", code)
		}
		if code := e.do("DELETE", "/session", tk, "", nil); code != 204 {
			t.Fatalf("logout: %d", code)
		}
		var errOut map[string]string
		for _, m := range []struct{ method, path string }{{"GET", "/presence"}, {"GET", "/events"}, {"DELETE", "/session"}, {"POST", "/calls"}} {
			if code := e.do(m.method, m.path, tk, `{"to":"bob"}`, &errOut); code != 401 || errOut["error"] != "token_revoked" {
				t.Fatalf("%s %s after logout: %d %v", m.method, m.path, code, errOut)
			}
		}
	}
	if code := e.do("GET", "/presence", other, "", nil); code != 200 {
		t.Fatalf("alice's other session was logged out too: %d", code)
	}
}

// TestAPILongPollEndsAtRevocation: a long-poll waiting with a token
// answers 401 token_revoked as soon as the token is revoked, not at the
// end of its wait.
func TestAPILongPollEndsAtRevocation(t *testing.T) {
	e := newAPIEnv(t)
	tok := e.login("bob")
	type answer struct {
		code int
		body map[string]string
	}
	got := make(chan answer, 1)
	start := time.Now()
	go func() {
		var a answer
		a.code = e.do("GET", "/events?wait=30s&cursor=1000000", tok, "", &a.body)
		got <- a
	}()
	testwait.For(t, 5*time.Second, "the long-poll waiting", func() bool { return e.auth.Watching() > 0 })
	if err := e.auth.Revoke(tok); err != nil {
		t.Fatal(err)
	}
	select {
	case a := <-got:
		if a.code != 401 || a.body["error"] != "token_revoked" {
			t.Fatalf("long-poll answer: %d %v", a.code, a.body)
		}
		t.Logf("long-poll ended %s after it started", time.Since(start).Round(time.Millisecond))
	case <-time.After(5 * time.Second):
		t.Fatal("the long-poll did not end at the revocation")
	}
	// The handler stops its watch as it returns, which may be just after
	// the client has read the answer.
	testwait.For(t, 5*time.Second, "no watches left", func() bool { return e.auth.Watching() == 0 })
}

// TestAPIThrottle: guessing answers 429 with Retry-After and the same
// error for a token check; nothing secret is logged.
func TestAPIThrottle(t *testing.T) {
	calls := call.NewService(call.Options{RingTimeout: time.Minute}, "alice")
	t.Cleanup(calls.Close)
	auth := account.NewAuth(account.AuthOptions{Users: map[string]string{"alice": "alice-pw"}, Secret: apiSecret})
	var logs bytes.Buffer
	mux := http.NewServeMux()
	(&API{Calls: calls, Auth: auth, Guard: throttle.New(throttle.Options{FreeFailures: 2, BaseDelay: 30 * time.Second}),
		Logger: slog.New(slog.NewTextHandler(&logs, nil))}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	e := &apiEnv{t: t, url: srv.URL + "/api/v1", calls: calls, auth: auth}
	for i := range 3 {
		if code := e.do("POST", "/login", "", `{"user":"alice","password":"guess-`+string(rune('a'+i))+`"}`, nil); code != 401 {
			t.Fatalf("guess %d: %d", i, code)
		}
	}
	res, err := http.Post(e.url+"/login", "application/json", strings.NewReader(`{"user":"alice","password":"alice-pw"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 429 || res.Header.Get("Retry-After") != "30" {
		t.Fatalf("after 3 failures: %d Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	var errOut map[string]string
	if code := e.do("GET", "/presence", account.MintToken(apiSecret, "alice", time.Now().Add(time.Hour)), "", &errOut); code != 429 || errOut["error"] != "too_many_attempts" {
		t.Fatalf("a token check from the slowed address: %d %v", code, errOut)
	}
	if strings.Contains(logs.String(), "guess-") || strings.Contains(logs.String(), "alice-pw") {
		t.Fatalf("a password was logged:\n%s", logs.String())
	}
}

// TestAPILoginCursor: the login answers the head of the user's event log,
// so a fresh sign-in reads only what happens from then on — not the end
// of a call that was over before (a stale "Call ended").
func TestAPILoginCursor(t *testing.T) {
	e := newAPIEnv(t)
	ta, tb := e.login("alice"), e.login("bob")
	pb := &poller{e: e, token: tb}
	pb.poll("") // bob is online
	var c struct{ Call string }
	if code := e.do("POST", "/calls", ta, `{"to":"bob"}`, &c); code != 201 {
		t.Fatalf("invite: %d", code)
	}
	pb.expect(call.EvIncoming)
	if code := e.do("POST", "/calls/"+c.Call+"/accept", tb, ``, nil); code != 200 {
		t.Fatalf("accept: %d", code)
	}
	pb.expect(call.EvAccepted)
	if code := e.do("POST", "/calls/"+c.Call+"/hangup", ta, ``, nil); code != 200 {
		t.Fatalf("hangup: %d", code)
	}
	pb.expect(call.EvBye)
	var login struct {
		Token  string
		Cursor uint64
	}
	if code := e.do("POST", "/login", "", `{"user":"bob","password":"bob"}`, &login); code != 200 || login.Cursor < 2 {
		t.Fatalf("login: %d cursor %d", code, login.Cursor)
	}
	if login.Cursor < pb.cursor { // presence events may follow the bye
		t.Fatalf("login cursor %d is before the bye (head %d)", login.Cursor, pb.cursor)
	}
	// From the login's cursor on, bob sees the next call and nothing before.
	after := &poller{e: e, token: login.Token, cursor: login.Cursor}
	if code := e.do("POST", "/calls", ta, `{"to":"bob"}`, &c); code != 201 {
		t.Fatalf("second invite: %d", code)
	}
	if ev := after.expect(call.EvIncoming); ev.Call != c.Call {
		t.Fatalf("first event after the login: %+v", ev)
	}
}

// TestAPISession: GET /api/v1/session tells the token's own user, the
// head of the user's log, the other nodes' pages and the known ones
// (empty lists without a cluster); a missing, expired or forged token
// gets 401 and no node list.
func TestAPISession(t *testing.T) {
	e := newAPIEnv(t)
	type session struct {
		User   string
		Cursor uint64
		Pages  []string
		Known  []string
	}
	tok := e.login("alice")
	var s session
	if code := e.do("GET", "/session", tok, "", &s); code != 200 || s.User != "alice" || s.Pages == nil || len(s.Pages) != 0 || s.Known == nil || len(s.Known) != 0 {
		t.Fatalf("without a cluster: %d %+v", code, s)
	}
	e.calls.Log("alice").Append(time.Now(), call.Event{Type: call.EvBye, Call: "x", From: "bob", To: "alice"})
	e.api.Pages = func() []string { return []string{"http://10.0.0.2:8080", "https://b.example"} }
	e.api.KnownPages = func() []string { return []string{"http://10.0.0.2:8080", "http://10.0.0.9", "https://b.example"} }
	var s2 session
	if code := e.do("GET", "/session", tok, "", &s2); code != 200 || s2.User != "alice" || s2.Cursor != s.Cursor+1 ||
		strings.Join(s2.Pages, " ") != "http://10.0.0.2:8080 https://b.example" || strings.Join(s2.Known, " ") != "http://10.0.0.2:8080 http://10.0.0.9 https://b.example" {
		t.Fatalf("with a cluster: %d %+v (cursor before %d)", code, s2, s.Cursor)
	}
	// bob's token says bob, whatever the page thinks.
	var s3 session
	if code := e.do("GET", "/session", e.login("bob"), "", &s3); code != 200 || s3.User != "bob" {
		t.Fatalf("bob's token: %d %+v", code, s3)
	}
	expired := account.MintToken(apiSecret, "alice", time.Now().Add(-time.Minute))
	forged := account.MintToken([]byte("another-secret-01234"), "alice", time.Now().Add(time.Hour))
	for _, c := range []struct{ name, tok, code string }{{"none", "", "no_token"}, {"expired", expired, "token_expired"}, {"forged", forged, "bad_token"}} {
		var out map[string]any
		if code := e.do("GET", "/session", c.tok, "", &out); code != 401 || out["error"] != c.code || out["pages"] != nil || out["known"] != nil {
			t.Errorf("%s token: %d %v, want 401 %s", c.name, code, out, c.code)
		}
	}
}
