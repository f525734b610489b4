package web

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/conference"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/throttle"
)

// TestAPIConferenceAccess: the listing shows members but no stream names
// to a signed-in non-member; wrong PINs are slowed with 429 and
// Retry-After.
func TestAPIConferenceAccess(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	calls := call.NewService(call.Options{RingTimeout: time.Minute}, "alice", "bob", "carol")
	auth := account.NewAuth(account.AuthOptions{Users: map[string]string{"alice": "alice", "bob": "bob", "carol": "carol"}, Secret: apiSecret})
	confs := conference.New(conference.Options{Hub: media.NewHub(64, log), DefaultMode: conference.ModeRelay, Calls: calls,
		Throttle: throttle.New(throttle.Options{FreeFailures: 3}),
		Rooms:    []conference.RoomConfig{{Name: "board", PIN: "4321", Moderators: []string{"alice"}}}})
	mux := http.NewServeMux()
	(&API{Calls: calls, Auth: auth, Logger: log, MaxWait: 5 * time.Second, Conferences: confs}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { srv.Close(); confs.Close(); calls.Close() })
	e := &apiEnv{t: t, url: srv.URL + "/api/v1", calls: calls, auth: auth}
	ta, tb, tc := e.login("alice"), e.login("bob"), e.login("carol")

	var ja, jb conference.Joined
	if code := e.do("POST", "/conferences/board/join", ta, `{"pin":"4321"}`, &ja); code != 200 {
		t.Fatalf("alice join: %d", code)
	}
	if code := e.do("POST", "/conferences/board/join", tb, `{"pin":"4321"}`, &jb); code != 200 || jb.Members[0].Play == "" {
		t.Fatalf("bob join: %d %+v", code, jb)
	}
	for _, path := range []string{"/conferences", "/conferences/board"} {
		var raw map[string]any
		if code := e.do("GET", path, tc, "", &raw); code != 200 {
			t.Fatalf("GET %s: %d", path, code)
		}
		body := fmt.Sprint(raw)
		if strings.Contains(body, jb.Members[0].Play) || strings.Contains(body, ja.Publish) || !strings.Contains(body, "bob") {
			t.Fatalf("GET %s to a non-member: %s", path, body)
		}
	}
	// carol guesses: 3 free wrong PINs, then 429 with Retry-After.
	for i := range 4 {
		if code := e.do("POST", "/conferences/board/join", tc, `{"pin":"000`+string(rune('0'+i))+`"}`, nil); code != 403 {
			t.Fatalf("wrong PIN %d: %d", i, code)
		}
	}
	req, _ := http.NewRequest("POST", e.url+"/conferences/board/join", strings.NewReader(`{"pin":"4321"}`))
	req.Header.Set("Authorization", "Bearer "+tc)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Fatalf("after 4 wrong PINs: %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
}
