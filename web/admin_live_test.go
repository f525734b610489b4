package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/conference"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/media"
)

// liveEnv is the admin API with a live view over a call service, a room
// service and a hub, and tokens for each role.
type liveEnv struct {
	srv             *httptest.Server
	admin           *Admin
	calls           *call.Service
	confs           *conference.Service
	hub             *media.Hub
	auth            *account.Auth
	root, mod, user string // tokens: admin, moderator, user
	rootB           string // a second admin token, revoked by tests
	live            *Live
	alice, bob      *call.Device
}

func startLiveEnv(t *testing.T) *liveEnv {
	t.Helper()
	e := &liveEnv{hub: media.NewHub(16, nil)}
	e.calls = call.NewService(call.Options{RingTimeout: time.Minute}, "alice", "bob", "root", "mod")
	e.confs = conference.New(conference.Options{Hub: e.hub})
	e.auth = account.NewAuth(account.AuthOptions{Users: map[string]string{"root": "root", "mod": "mod", "alice": "alice"}})
	e.live = &Live{Calls: e.calls, Rooms: e.confs, Streams: e.hub, Sample: 20 * time.Millisecond, Keep: 5}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = e.live.Serve(ctx) }()
	mux := http.NewServeMux()
	e.admin = &Admin{Auth: e.auth, Roles: roles{"root": "admin", "mod": "moderator", "alice": "user"}, Live: e.live}
	e.admin.Register(mux)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(func() { e.srv.Close(); cancel(); <-done; e.confs.Close(); e.calls.Close() })
	e.root, _, _ = e.auth.Login("root", "root")
	e.rootB, _, _ = e.auth.Login("root", "root")
	e.mod, _, _ = e.auth.Login("mod", "mod")
	e.user, _, _ = e.auth.Login("alice", "alice")
	e.alice, e.bob = e.calls.Attach("alice", call.KindRTMP), e.calls.Attach("bob", call.KindRTMP)
	return e
}

// do sends a request with token (none if "") and extra headers.
func (e *liveEnv) do(t *testing.T, tok, method, path string, hdr ...string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

// status GETs path with tok and returns the status (0 on a transport
// error): safe off the test's goroutine.
func (e *liveEnv) status(tok, path string) int {
	req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

// call places and answers a call from alice to bob.
func (e *liveEnv) call(t *testing.T) string {
	t.Helper()
	id, err := e.calls.Invite(e.alice, "bob", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.calls.Accept(e.bob, id, ""); err != nil {
		t.Fatal(err)
	}
	return id
}

// adminRoutes are every admin route, for the refusal tests.
var adminRoutes = [][2]string{
	{"GET", "/admin"}, {"GET", "/api/v1/admin/live"}, {"GET", "/api/v1/admin/live?wait=1s"}, {"GET", "/api/v1/admin/history"},
	{"POST", "/api/v1/admin/calls/x/hangup"}, {"POST", "/api/v1/admin/rooms/r/end"}, {"POST", "/api/v1/admin/rooms/r/members/m/kick"}, {"POST", "/api/v1/admin/rooms/r/members/m/mute"}, {"POST", "/api/v1/admin/rooms/r/lock"},
	{"GET", "/api/v1/admin/cdr"}, {"GET", "/api/v1/admin/users"}, {"POST", "/api/v1/admin/users"}, {"PATCH", "/api/v1/admin/users/alice"},
}

// TestAdminLiveRefusals: every admin route and the page refuse a user, a
// moderator, a revoked token, a made-up token and a cross-origin request
// with a valid admin token; none answers CORS.
func TestAdminLiveRefusals(t *testing.T) {
	e := startLiveEnv(t)
	if err := e.auth.Revoke(e.rootB); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, tok string
		hdr       []string
		want      int
	}{
		{"user", e.user, nil, 403},
		{"moderator", e.mod, nil, 403},
		{"revoked admin", e.rootB, nil, 401},
		{"forged", "v1.root.0.AAAA", nil, 401},
		{"cross-origin admin", e.root, []string{"Origin", "http://evil.example"}, 403},
		{"cross-origin, no token", "", []string{"Origin", "http://evil.example"}, 403},
	}
	for _, c := range cases {
		for _, r := range adminRoutes {
			code, h, body := e.do(t, c.tok, r[0], r[1], c.hdr...)
			if code != c.want {
				t.Errorf("%s: %s %s: %d %s, want %d", c.name, r[0], r[1], code, body, c.want)
			}
			if h.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("%s: %s %s answers CORS", c.name, r[0], r[1])
			}
		}
	}
	// The page without a token is the sign-in shell: no data in it.
	code, h, body := e.do(t, "", "GET", "/admin")
	if code != 200 || !strings.Contains(body, `id="login-form"`) || !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Fatalf("page: %d %q", code, h)
	}
	// A preflight for a cross-origin POST gets no CORS approval.
	code, h, _ = e.do(t, "", "OPTIONS", "/api/v1/admin/calls/x/hangup", "Origin", "http://evil.example", "Access-Control-Request-Method", "POST")
	if h.Get("Access-Control-Allow-Origin") != "" || code == 204 || code == 200 {
		t.Fatalf("preflight: %d %v", code, h)
	}
	if code, _, _ := e.do(t, e.root, "GET", "/api/v1/admin/live", "Origin", e.srv.URL); code != 200 {
		t.Fatalf("same origin: %d", code)
	}
}

// liveAnswer is the part of GET /live the tests read.
type liveAnswer struct {
	Version uint64
	Users   []struct{ Name, Status string }
	Calls   []struct {
		ID, State, Mode, FromCodec string
	}
	Rooms []struct {
		Name    string
		Members []struct{ ID, User string }
	}
	Streams []struct {
		Name, Codec, Call string
		Published         bool
		Players           int
	}
}

func (e *liveEnv) view(t *testing.T, query string) liveAnswer {
	t.Helper()
	code, _, body := e.do(t, e.root, "GET", "/api/v1/admin/live"+query)
	var v liveAnswer
	if err := json.Unmarshal([]byte(body), &v); code != 200 || err != nil {
		t.Fatalf("live%s: %d %s", query, code, body)
	}
	return v
}

// TestAdminLive: a long-poll answers when a call starts; the call shows
// with its mode and its streams' codecs (names redacted); hang-up from
// the API ends it for both parties with reason admin; a room member is
// kicked and a room ended; the history fills.
func TestAdminLive(t *testing.T) {
	e := startLiveEnv(t)
	v0 := e.view(t, "")
	if len(v0.Users) != 2 || len(v0.Calls) != 0 {
		t.Fatalf("idle view: %+v", v0)
	}
	got := make(chan liveAnswer, 1)
	go func() { // no t.Fatal off the test's goroutine: a failure leaves v zero
		var v liveAnswer
		req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/admin/live?since="+strconv.FormatUint(v0.Version, 10)+"&wait=20s", nil)
		req.Header.Set("Authorization", "Bearer "+e.root)
		if res, err := http.DefaultClient.Do(req); err == nil {
			_ = json.NewDecoder(res.Body).Decode(&v)
			res.Body.Close()
		}
		got <- v
	}()
	id := e.call(t)
	// The long-poll answers at the first change: the call ringing or, if
	// the answer came within the same look, active.
	if v := <-got; v.Version <= v0.Version || len(v.Calls) != 1 || v.Calls[0].ID != id {
		t.Fatalf("long-poll after the call: %+v", v)
	}
	var v liveAnswer
	testwait.For(t, 5*time.Second, "the call active in the view", func() bool {
		v = e.view(t, "")
		return len(v.Calls) == 1 && v.Calls[0].State == "active"
	})
	if v.Calls[0].Mode != call.ModeRelay {
		t.Fatalf("after the answer: %+v", v)
	}
	// The caller publishes Speex on its issued name.
	key := e.calls.Calls()[0].Streams[0]
	pub, err := e.hub.Publish(key)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	pub.Write(&media.Frame{Kind: media.KindAudio, Codec: codec.Speex, Payload: []byte{1}})
	testwait.For(t, 5*time.Second, "the stream's codec in the view", func() bool {
		v = e.view(t, "")
		return len(v.Calls) == 1 && v.Calls[0].FromCodec == codec.Speex.String()
	})
	if len(v.Streams) != 1 || v.Streams[0].Call != id || strings.Contains(v.Streams[0].Name, key[len("phone/")+6:]) || !v.Streams[0].Published {
		t.Fatalf("streams: %+v (key %s)", v.Streams, key)
	}
	if code, _, body := e.do(t, e.root, "POST", "/api/v1/admin/calls/"+id+"/hangup"); code != 204 {
		t.Fatalf("hangup: %d %s", code, body)
	}
	for _, u := range []string{"alice", "bob"} {
		var last call.Event
		for _, en := range e.calls.Log(u).Since(0, 100).Events {
			if ce, ok := en.Event.(call.Event); ok {
				last = ce
			}
		}
		if last.Type != call.EvBye || last.Reason != call.ReasonAdmin || last.By != "root" {
			t.Errorf("%s's last call event: %+v", u, last)
		}
	}
	if code, _, _ := e.do(t, e.root, "POST", "/api/v1/admin/calls/"+id+"/hangup"); code != 404 {
		t.Errorf("second hangup: %d", code)
	}
	testAdminRooms(t, e)
	testwait.For(t, 5*time.Second, "history samples", func() bool { return len(e.live.History()) == 5 })
	code, _, body := e.do(t, e.root, "GET", "/api/v1/admin/history")
	if code != 200 || strings.Count(body, `"calls"`) != 5 {
		t.Fatalf("history: %d %s", code, body)
	}
}

func testAdminRooms(t *testing.T, e *liveEnv) {
	m, _, err := e.confs.Join("standup", conference.JoinOptions{User: "alice", Mode: conference.ModeRelay})
	if err != nil {
		t.Fatal(err)
	}
	m2, _, err := e.confs.Join("standup", conference.JoinOptions{User: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	v := e.view(t, "")
	if len(v.Rooms) != 1 || len(v.Rooms[0].Members) != 2 {
		t.Fatalf("rooms: %+v", v.Rooms)
	}
	for path, want := range map[string]int{
		"/api/v1/admin/rooms/standup/members/" + m2.ID + "/mute":  204,
		"/api/v1/admin/rooms/standup/lock":                        204,
		"/api/v1/admin/rooms/standup/members/nobody/mute":         404,
		"/api/v1/admin/rooms/standup/members/" + m2.ID + "/shout": 404,
		"/api/v1/admin/rooms/standup/open":                        404,
		"/api/v1/admin/rooms/nowhere/lock":                        404,
	} {
		if code, _, body := e.do(t, e.root, "POST", path); code != want {
			t.Errorf("POST %s: %d %s, want %d", path, code, body, want)
		}
	}
	rs := e.confs.Rooms()
	if len(rs) != 1 || !rs[0].Locked || len(rs[0].Members) != 2 {
		t.Fatalf("after lock and mute: %+v", rs)
	}
	for _, mi := range rs[0].Members {
		if mi.Muted != (mi.ID == m2.ID) {
			t.Errorf("member %+v: muted %v", mi, mi.Muted)
		}
	}
	if _, _, err := e.confs.Join("standup", conference.JoinOptions{User: "carol"}); !errors.Is(err, conference.ErrLocked) {
		t.Errorf("carol joins the locked room: %v", err)
	}
	for _, path := range []string{"/api/v1/admin/rooms/standup/members/" + m2.ID + "/unmute", "/api/v1/admin/rooms/standup/unlock"} {
		if code, _, body := e.do(t, e.root, "POST", path); code != 204 {
			t.Errorf("POST %s: %d %s", path, code, body)
		}
	}
	if rs := e.confs.Rooms(); rs[0].Locked || rs[0].Members[0].Muted || rs[0].Members[1].Muted {
		t.Fatalf("after unlock and unmute: %+v", rs)
	}
	for path, want := range map[string]int{
		"/api/v1/admin/rooms/standup/members/nobody/kick":       404,
		"/api/v1/admin/rooms/nowhere/end":                       404,
		"/api/v1/admin/rooms/standup/members/" + m.ID + "/kick": 204,
	} {
		if code, _, body := e.do(t, e.root, "POST", path); code != want {
			t.Errorf("POST %s: %d %s, want %d", path, code, body, want)
		}
	}
	<-m.Done()
	if code, _, _ := e.do(t, e.root, "POST", "/api/v1/admin/rooms/standup/end"); code != 204 {
		t.Fatalf("end room: %d", code)
	}
	<-m2.Done()
	if v := e.view(t, ""); len(v.Rooms) != 0 {
		t.Fatalf("rooms after the end: %+v", v.Rooms)
	}
}

// TestAdminLivePollBounds: an admin's fifth waiting long-poll gets 429; a
// long-poll whose token is revoked meanwhile answers 401.
func TestAdminLivePollBounds(t *testing.T) {
	e := startLiveEnv(t)
	v := e.view(t, "")
	since := "?since=" + strconv.FormatUint(v.Version, 10) + "&wait=20s"
	codes := make(chan int, adminMaxPolls)
	for range adminMaxPolls {
		go func() { codes <- e.status(e.rootB, "/api/v1/admin/live"+since) }()
	}
	testwait.For(t, 5*time.Second, "4 long-polls waiting", func() bool {
		e.admin.polls.mu.Lock()
		defer e.admin.polls.mu.Unlock()
		return e.admin.polls.n["root"] == adminMaxPolls
	})
	if code, _, _ := e.do(t, e.root, "GET", "/api/v1/admin/live"+since); code != 429 {
		t.Fatalf("fifth long-poll: %d", code)
	}
	if err := e.auth.Revoke(e.rootB); err != nil {
		t.Fatal(err)
	}
	for range adminMaxPolls {
		if c := <-codes; c != 401 {
			t.Fatalf("long-poll of a revoked token: %d", c)
		}
	}
}

// TestRedactStream: issued names show their first characters only.
func TestRedactStream(t *testing.T) {
	for in, want := range map[string]string{
		"phone/0123456789abcdef": "phone/012345…",
		"conf/abcdefghij":        "conf/abcdef…",
		"live/cam":               "live/cam",
		"phone/abc":              "phone/abc",
	} {
		if got := redactStream(in); got != want {
			t.Errorf("redactStream(%q) = %q, want %q", in, got, want)
		}
	}
}
