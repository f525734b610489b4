package web

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/conference"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/media"
)

func newConfEnv(t *testing.T) *apiEnv {
	log := slog.New(slog.DiscardHandler)
	calls := call.NewService(call.Options{RingTimeout: time.Minute}, "alice", "bob", "carol")
	auth := account.NewAuth(account.AuthOptions{Users: map[string]string{"alice": "alice", "bob": "bob", "carol": "carol"}, Secret: apiSecret})
	confs := conference.New(conference.Options{Hub: media.NewHub(64, log), DefaultMode: conference.ModeRelay, Calls: calls})
	mux := http.NewServeMux()
	(&API{Calls: calls, Auth: auth, Logger: log, MaxWait: 5 * time.Second, Conferences: confs}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { srv.Close(); confs.Close(); calls.Close() })
	return &apiEnv{t: t, url: srv.URL + "/api/v1", calls: calls, auth: auth}
}

// Join, events by long-poll, moderation and leave over the HTTP API.
func TestAPIConference(t *testing.T) {
	e := newConfEnv(t)
	ta, tb := e.login("alice"), e.login("bob")
	var ja, jb conference.Joined
	if code := e.do("POST", "/conferences/team/join", ta, `{}`, &ja); code != 200 || ja.Mode != conference.ModeRelay || !ja.Moderator {
		t.Fatalf("alice join: %d %+v", code, ja)
	}
	var cur struct{ Cursor uint64 }
	e.do("GET", "/events", ta, "", &cur)
	if code := e.do("POST", "/conferences/team/join", tb, ``, &jb); code != 200 || len(jb.Members) != 1 || jb.Members[0].Play == "" {
		t.Fatalf("bob join: %d %+v", code, jb)
	}
	var page wirePage
	page.Cursor = cur.Cursor
	found := false
	for !found {
		e.do("GET", "/events?wait=2s&cursor="+itoa(page.Cursor), ta, "", &page)
		if len(page.Events) == 0 {
			t.Fatal("no conf_joined event for alice")
		}
		for _, ev := range page.Events {
			if ev.Type == "conf_joined" {
				if ev.Room != "team" || ev.User != "bob" || ev.Member != jb.Member || ev.Play == "" {
					t.Fatalf("event %+v", ev)
				}
				found = true
			}
		}
	}
	var info conference.RoomInfo
	if code := e.do("GET", "/conferences/team", tb, "", &info); code != 200 || len(info.Members) != 2 {
		t.Fatalf("room: %d %+v", code, info)
	}
	var apiErr map[string]string
	if code := e.do("POST", "/conferences/team/members/"+ja.Member+"/kick", tb, "", &apiErr); code != 403 || apiErr["error"] != "not_moderator" {
		t.Errorf("bob kicks: %d %v", code, apiErr)
	}
	if code := e.do("POST", "/conferences/team/members/"+jb.Member+"/mute", ta, "", nil); code != 200 {
		t.Errorf("alice mutes bob: %d", code)
	}
	if code := e.do("POST", "/conferences/team/lock", ta, "", nil); code != 200 {
		t.Errorf("lock: %d", code)
	}
	tc := e.login("carol")
	if code := e.do("POST", "/conferences/team/join", tc, "", &apiErr); code != 403 || apiErr["error"] != "locked" {
		t.Errorf("carol joins a locked room: %d %v", code, apiErr)
	}
	if code := e.do("POST", "/conferences/bad%20name/join", tc, "", &apiErr); code != 400 {
		t.Errorf("bad name: %d %v", code, apiErr)
	}
	if code := e.do("POST", "/conferences/team/leave", tb, "", nil); code != 200 {
		t.Errorf("bob leaves: %d", code)
	}
	if code := e.do("POST", "/conferences/team/leave", tb, "", &apiErr); code != 404 {
		t.Errorf("bob leaves twice: %d", code)
	}
	if code := e.do("POST", "/conferences/team/end", ta, "", nil); code != 200 {
		t.Errorf("end: %d", code)
	}
	var rooms struct{ Rooms []conference.RoomInfo }
	if code := e.do("GET", "/conferences", ta, "", &rooms); code != 200 || len(rooms.Rooms) != 0 {
		t.Errorf("rooms after end: %d %+v", code, rooms)
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

// A moderator invites over HTTP: a user (online by its HTTP requests) is
// rung by a call from conf:ROOM and, accepting it, is a member; others may
// not invite, and a number needs SIP dial-out.
func TestAPIConferenceInvite(t *testing.T) {
	e := newConfEnv(t)
	ta, tb, tc := e.login("alice"), e.login("bob"), e.login("carol")
	if code := e.do("POST", "/conferences/team/join", ta, `{}`, nil); code != 200 {
		t.Fatalf("alice join: %d", code)
	}
	var cur struct{ Cursor uint64 }
	e.do("GET", "/events", tb, "", &cur) // bob is online (HTTP) from here
	var apiErr map[string]string
	if code := e.do("POST", "/conferences/team/invite", tc, `{"target":"bob"}`, &apiErr); code != 403 || apiErr["error"] != "not_moderator" {
		t.Errorf("carol invites: %d %v", code, apiErr)
	}
	if code := e.do("POST", "/conferences/team/invite", ta, `{"target":"+15551234567"}`, &apiErr); code != 409 || apiErr["error"] != "cannot_invite" {
		t.Errorf("alice invites a number without SIP: %d %v", code, apiErr)
	}
	if code := e.do("POST", "/conferences/team/invite", ta, `{"target":"bob"}`, nil); code != 200 {
		t.Fatalf("alice invites bob: %d", code)
	}
	var page wirePage
	page.Cursor = cur.Cursor
	id := ""
	for id == "" {
		e.do("GET", "/events?wait=2s&cursor="+itoa(page.Cursor), tb, "", &page)
		if len(page.Events) == 0 {
			t.Fatal("no incoming call for bob")
		}
		for _, ev := range page.Events {
			if ev.Type == "incoming" && ev.From == "conf:team" {
				id = ev.Call
			}
		}
	}
	if code := e.do("POST", "/calls/"+id+"/accept", tb, "", nil); code != 200 {
		t.Fatalf("bob accepts: %d", code)
	}
	var info conference.RoomInfo
	testwait.ForDetail(t, 10*time.Second, "bob in the room", func() bool {
		info = conference.RoomInfo{}
		e.do("GET", "/conferences/team", ta, "", &info)
		return len(info.Members) == 2 && info.Members[1].User == "bob" && info.Members[1].Kind == conference.KindCall
	}, func() string { return fmt.Sprintf("%+v", info) })
	if info.Mode != conference.ModeMixed {
		t.Errorf("room mode %s with a call member, want mixed", info.Mode)
	}
}
