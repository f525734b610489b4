package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

var apiSecret = []byte("api-test-secret-0123")

type apiEnv struct {
	t     *testing.T
	url   string
	calls *call.Service
	auth  *account.Auth
	api   *API
}

func newAPIEnv(t *testing.T) *apiEnv {
	calls := call.NewService(call.Options{RingTimeout: time.Minute}, "alice", "bob", "carol")
	auth := account.NewAuth(account.AuthOptions{Users: map[string]string{"alice": "alice", "bob": "bob", "carol": "carol"}, Secret: apiSecret})
	mux := http.NewServeMux()
	api := &API{Calls: calls, Auth: auth, Logger: slog.New(slog.DiscardHandler), MaxWait: 5 * time.Second}
	api.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { srv.Close(); calls.Close() })
	return &apiEnv{t: t, url: srv.URL + "/api/v1", calls: calls, auth: auth, api: api}
}

// do sends a request and decodes the JSON answer into out (if not nil).
func (e *apiEnv) do(method, path, token, body string, out any) int {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return res.StatusCode
}

func (e *apiEnv) login(user string) string {
	e.t.Helper()
	var out struct{ Token, User, Expires string }
	if code := e.do("POST", "/login", "", fmt.Sprintf(`{"user":%q,"password":%q}`, user, user), &out); code != 200 || out.Token == "" {
		e.t.Fatalf("login %s: %d %+v", user, code, out)
	}
	return out.Token
}

// poller follows one user's events over HTTP with a cursor.
type poller struct {
	e      *apiEnv
	token  string
	cursor uint64
}

func (p *poller) poll(wait string) wirePage {
	p.e.t.Helper()
	var page wirePage
	path := fmt.Sprintf("/events?cursor=%d", p.cursor)
	if wait != "" {
		path += "&wait=" + wait
	}
	if code := p.e.do("GET", path, p.token, "", &page); code != 200 {
		p.e.t.Fatalf("events: %d", code)
	}
	p.cursor = page.Cursor
	return page
}

// expect long-polls until an event of typ (presence skipped), within 2 s.
func (p *poller) expect(typ string) wireEvent {
	p.e.t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		for _, ev := range p.poll("1s").Events {
			if ev.Type == call.EvPresence {
				continue
			}
			if ev.Type != typ {
				p.e.t.Fatalf("got %+v, want %s", ev, typ)
			}
			return ev
		}
	}
	p.e.t.Fatalf("no %s event within 2s", typ)
	return wireEvent{}
}

func TestAPILoginAndTokens(t *testing.T) {
	e := newAPIEnv(t)
	var errOut map[string]string
	if code := e.do("POST", "/login", "", `{"user":"alice","password":"nope"}`, &errOut); code != 401 || errOut["error"] != "bad_credentials" {
		t.Fatalf("wrong password: %d %v", code, errOut)
	}
	if code := e.do("POST", "/login", "", `{"user":"alice","pass":"alice"}`, &errOut); code != 400 {
		t.Fatalf("unknown field: %d %v", code, errOut)
	}
	tok := e.login("alice")
	if code := e.do("GET", "/presence", tok, "", nil); code != 200 {
		t.Fatalf("presence with token: %d", code)
	}
	for tok, want := range map[string]string{
		"":        "no_token",
		"garbage": "bad_token",
		account.MintToken(apiSecret, "alice", time.Now().Add(-time.Second)):                   "token_expired",
		account.MintToken([]byte("other-secret-0123456"), "alice", time.Now().Add(time.Hour)): "bad_token",
	} {
		if code := e.do("GET", "/events", tok, "", &errOut); code != 401 || errOut["error"] != want {
			t.Errorf("token %q: %d %v, want %s", tok, code, errOut, want)
		}
	}
}

func TestAPICallFlow(t *testing.T) {
	e := newAPIEnv(t)
	ta, tb, tc := e.login("alice"), e.login("bob"), e.login("carol")
	pa, pb := &poller{e: e, token: ta}, &poller{e: e, token: tb}
	pa.poll("")
	pb.poll("")
	var inv map[string]string
	if code := e.do("POST", "/calls", ta, `{"to":"bob"}`, &inv); code != 201 || inv["call"] == "" {
		t.Fatalf("invite: %d %v", code, inv)
	}
	id := inv["call"]
	if ev := pb.expect(call.EvIncoming); ev.Call != id || ev.From != "alice" {
		t.Fatalf("%+v", ev)
	}
	pa.expect(call.EvRinging)
	var errOut map[string]string
	if code := e.do("POST", "/calls/"+id+"/accept", tc, "", &errOut); code != 403 || errOut["error"] != "not_party" {
		t.Fatalf("carol accepting: %d %v", code, errOut)
	}
	if code := e.do("POST", "/calls/"+id+"/fly", tb, "", &errOut); code != 404 {
		t.Fatalf("unknown action: %d %v", code, errOut)
	}
	var acc map[string]string
	if code := e.do("POST", "/calls/"+id+"/accept", tb, `{"peerId":"p2"}`, &acc); code != 200 || acc["publish"] == "" || acc["mode"] != "relay" {
		t.Fatalf("accept: %d %v", code, acc)
	}
	if code := e.do("POST", "/calls/"+id+"/accept", tb, "", &errOut); code != 409 {
		t.Fatalf("second accept: %d %v", code, errOut)
	}
	if ev := pa.expect(call.EvAccepted); ev.Play != acc["publish"] || ev.PeerID != "" { // a relayed call hands over no peer ID
		t.Fatalf("%+v vs %v", ev, acc)
	}
	pb.expect(call.EvAccepted)
	if code := e.do("POST", "/calls/"+id+"/dtmf", ta, `{"digits":"9"}`, nil); code != 200 {
		t.Fatalf("dtmf %d", code)
	}
	if ev := pb.expect(call.EvDTMF); ev.Digits != "9" {
		t.Fatalf("%+v", ev)
	}
	if code := e.do("POST", "/calls/"+id+"/hangup", tb, "", nil); code != 200 {
		t.Fatalf("hangup %d", code)
	}
	if ev := pa.expect(call.EvBye); ev.Reason != call.ReasonHangup || ev.By != "bob" {
		t.Fatalf("%+v", ev)
	}
	if code := e.do("POST", "/calls/"+id+"/hangup", tb, "", &errOut); code != 404 {
		t.Fatalf("hangup of an ended call: %d %v", code, errOut)
	}
	var pres struct{ Users map[string]string }
	e.do("GET", "/presence", ta, "", &pres)
	if pres.Users["alice"] != call.Online || pres.Users["carol"] != call.Online {
		t.Fatalf("presence %v", pres)
	}
}

func TestAPIRejectAndBusy(t *testing.T) {
	e := newAPIEnv(t)
	ta, tb, tc := e.login("alice"), e.login("bob"), e.login("carol")
	pa, pb, pc := &poller{e: e, token: ta}, &poller{e: e, token: tb}, &poller{e: e, token: tc}
	pa.poll("")
	pb.poll("")
	pc.poll("")
	var inv map[string]string
	e.do("POST", "/calls", ta, `{"to":"bob"}`, &inv)
	pb.expect(call.EvIncoming)
	pa.expect(call.EvRinging)
	e.do("POST", "/calls", tc, `{"to":"bob"}`, nil)
	if ev := pc.expect(call.EvRejected); ev.Reason != call.ReasonBusy {
		t.Fatalf("%+v", ev)
	}
	if code := e.do("POST", "/calls/"+inv["call"]+"/reject", tb, "", nil); code != 200 {
		t.Fatalf("reject %d", code)
	}
	if ev := pa.expect(call.EvRejected); ev.Reason != call.ReasonRejected {
		t.Fatalf("%+v", ev)
	}
}

// TestAPILongPollLatency: a waiting GET /events answers within 50 ms of
// the event.
func TestAPILongPollLatency(t *testing.T) {
	e := newAPIEnv(t)
	tb := e.login("bob")
	p := &poller{e: e, token: tb}
	p.poll("")
	log := e.calls.Log("bob")
	var worst time.Duration
	for range 10 {
		got := make(chan time.Time, 1)
		go func() {
			var page wirePage
			req, _ := http.NewRequest("GET", fmt.Sprintf("%s/events?cursor=%d&wait=5s", e.url, log.Head()), nil)
			req.Header.Set("Authorization", "Bearer "+tb)
			res, err := http.DefaultClient.Do(req)
			if err == nil {
				json.NewDecoder(res.Body).Decode(&page)
				res.Body.Close()
			}
			if len(page.Events) == 1 {
				got <- time.Now()
			}
			close(got)
		}()
		// Give the request time to block in the server (this waits for no event).
		time.Sleep(20 * time.Millisecond)
		at := time.Now()
		log.Append(time.Time{}, call.Event{Type: call.EvDTMF, Digits: "1"})
		when, ok := <-got
		if !ok {
			t.Fatal("long-poll answered without the event")
		}
		worst = max(worst, when.Sub(at))
	}
	t.Logf("worst HTTP long-poll latency over 10 events: %v", worst)
	// Woken by the event, not by the 5 s wait. How fast is for
	// benchmarks to measure, not for a test on a loaded machine to assert.
	if worst >= 2500*time.Millisecond {
		t.Fatalf("long-poll answered after %v: the event did not wake it", worst)
	}
}

// TestAPIThousandEventsRandomPolling: events appended while a client polls
// over HTTP at random intervals (mixing polls and long-polls) arrive
// exactly once and in order.
func TestAPIThousandEventsRandomPolling(t *testing.T) {
	e := newAPIEnv(t)
	tb := e.login("bob")
	p := &poller{e: e, token: tb}
	p.poll("")
	log := e.calls.Log("bob")
	const n = 1000
	var wg sync.WaitGroup
	wg.Go(func() {
		r := rand.New(rand.NewPCG(7, 8))
		for i := range n {
			log.Append(time.Time{}, call.Event{Type: call.EvDTMF, Digits: fmt.Sprint(i)})
			if r.IntN(10) == 0 {
				time.Sleep(time.Duration(r.IntN(2000)) * time.Microsecond) // pace the writer
			}
		}
	})
	r := rand.New(rand.NewPCG(9, 10))
	var got []wireEvent
	deadline := time.Now().Add(20 * time.Second)
	for len(got) < n && time.Now().Before(deadline) {
		wait := ""
		if r.IntN(2) == 0 {
			wait = "100ms"
		} else {
			time.Sleep(time.Duration(r.IntN(3000)) * time.Microsecond) // random polling interval
		}
		page := p.poll(wait)
		if page.Missed != 0 {
			t.Fatalf("missed %d", page.Missed)
		}
		for _, ev := range page.Events {
			if ev.Type == call.EvDTMF {
				got = append(got, ev)
			}
		}
	}
	wg.Wait()
	if len(got) != n {
		t.Fatalf("got %d events", len(got))
	}
	for i, ev := range got {
		if ev.Digits != fmt.Sprint(i) || (i > 0 && ev.Cursor != got[i-1].Cursor+1) {
			t.Fatalf("event %d: %+v", i, ev)
		}
	}
}

func TestAPIBadParameters(t *testing.T) {
	e := newAPIEnv(t)
	ta := e.login("alice")
	var out map[string]string
	for path, want := range map[string]int{
		"/events?cursor=-1": 400,
		"/events?cursor=x":  400,
		"/events?wait=soon": 400,
		"/events?wait=-1s":  400,
		"/events?wait=0":    200,
	} {
		if code := e.do("GET", path, ta, "", nil); code != want {
			t.Errorf("%s: %d, want %d", path, code, want)
		}
	}
	for body, code := range map[string]int{
		`{"to":"alice"}`:          400,
		`{"to":"a b"}`:            400,
		`{}`:                      400,
		`{"to":"bob"} {}`:         400,
		`[1]`:                     400,
		strings.Repeat(" ", 5000): 400,
	} {
		if got := e.do("POST", "/calls", ta, body, &out); got != code {
			t.Errorf("body %.20q: %d %v, want %d", body, got, out, code)
		}
	}
}

// FuzzDecodeBody: any body either fails with a 400 answer or decodes.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{`{"to":"bob"}`, `{"to":"bob","peerId":"x"}`, `{"digits":"12#"}`, ``, `{"to":1}`, `{"to":"bob"} {}`, `{"user":"a","password":"b"}`, `nul`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var req callRequest
		if err := decodeBody(bytes.NewReader(b), &req); err != nil {
			if errorFor(err).status != http.StatusBadRequest {
				t.Fatalf("%q: %v", b, err)
			}
			return
		}
		out, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		var again callRequest
		if err := decodeBody(bytes.NewReader(out), &again); err != nil || again != req {
			t.Fatalf("round trip %q: %+v %v", out, again, err)
		}
	})
}

// TestAPILongPollsPerUser: one token cannot park more than MaxPolls
// long-polls (3 000 on one token used to be accepted); the next gets 429,
// and a plain poll still answers.
func TestAPILongPollsPerUser(t *testing.T) {
	e := newAPIEnv(t)
	tb := e.login("bob")
	var wg sync.WaitGroup
	defer wg.Wait()
	defer e.calls.Log("bob").Append(time.Time{}, call.Event{Type: call.EvDTMF, Digits: "1"}) // ends the parked polls
	for range defaultMaxPolls {
		wg.Go(func() {
			req, _ := http.NewRequest("GET", e.url+"/events?cursor=999999&wait=5s", nil)
			req.Header.Set("Authorization", "Bearer "+tb)
			if res, err := http.DefaultClient.Do(req); err == nil {
				res.Body.Close()
			}
		})
	}
	api := e.api
	testwait.For(t, 5*time.Second, "8 long-polls parked", func() bool {
		api.polls.mu.Lock()
		defer api.polls.mu.Unlock()
		return api.polls.n["bob"] == defaultMaxPolls
	})
	var out struct{ Error string }
	if code := e.do("GET", "/events?wait=5s", tb, "", &out); code != http.StatusTooManyRequests || out.Error != "too_many_polls" {
		t.Fatalf("9th long-poll: %d %+v, want 429 too_many_polls", code, out)
	}
	if code := e.do("GET", "/events", tb, "", nil); code != http.StatusOK {
		t.Fatalf("a plain poll beside them: %d", code)
	}
}
