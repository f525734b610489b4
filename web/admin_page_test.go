package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/apps/phone"
	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/conference"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/teststack"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/rtmp"
	"github.com/flashvox/flashvox/session"
	"github.com/flashvox/flashvox/softphone"
	"github.com/flashvox/flashvox/store"
	"github.com/flashvox/flashvox/web"
)

// adminRoles are the test accounts' roles.
type adminRoles map[string]string

func (r adminRoles) Role(user string) (string, error) { return r[user], nil }

// cdrSink writes each ended call's record to the store, as the server's
// CDR writer does (off the call service's lock).
type cdrSink struct {
	db *store.DB
	wg sync.WaitGroup
}

func (s *cdrSink) CallEnded(r call.Record) {
	c := store.CDR{ID: r.Call, Caller: r.From, Callee: r.To, CallerTransport: r.FromKind, CalleeTransport: r.ToKind,
		Mode: r.Mode, Started: r.Started, Answered: r.Answered, Ended: r.Ended, EndEvent: r.Event, Reason: r.Reason, EndedBy: r.By}
	s.wg.Go(func() { _ = s.db.AddCDRs(context.Background(), []store.CDR{c}) })
}

// fakeSIP is a SIP bridge's state for the page: a registered trunk, and a
// phone whose contact (network input) carries markup. Its times are fixed,
// as the bridge's are between changes.
type fakeSIP struct{ at time.Time }

// hostileContact would run script if the page put it in as HTML.
const hostileContact = `sip:dave@10.0.0.9;x="<img src=x onerror=document.title='pwned'>"`

func (f fakeSIP) Trunks() []web.SIPTrunk {
	return []web.SIPTrunk{{Name: "carrier", Address: "sip.example.net:5060", Register: true, Registered: true, Since: f.at}}
}

func (f fakeSIP) Phones() []web.SIPPhone {
	return []web.SIPPhone{{User: "dave", Contact: hostileContact, Transport: "udp", Source: "10.0.0.9:5060", Expires: f.at.Add(time.Hour)}}
}

// adminEnv is the HTTP listener (API, pages, admin API and dashboard) and
// the RTMP phone app over one call service and hub, with a SQLite store
// for the records.
type adminEnv struct {
	url, rtmpURL string
	calls        *call.Service
	confs        *conference.Service
	db           *store.DB
	auth         *account.Auth
}

func startAdminEnv(t *testing.T) *adminEnv {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.URLForDataDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx, 0); err != nil {
		t.Fatal(err)
	}
	sink := &cdrSink{db: db}
	log := slog.New(slog.DiscardHandler)
	calls := call.NewService(call.Options{RingTimeout: time.Minute, Records: sink}, "alice", "bob", "carol", "root")
	auth := account.NewAuth(account.AuthOptions{Users: map[string]string{"alice": "alice", "bob": "bob", "carol": "carol", "root": "root"}})
	st := teststack.Start(t, teststack.Options{Apps: map[string]session.App{
		phone.Name: &phone.App{Calls: calls, Auth: auth, Logger: log},
	}})
	confs := conference.New(conference.Options{Hub: st.Hub})
	live := &web.Live{Calls: calls, Rooms: confs, Streams: st.Hub, SIP: fakeSIP{at: time.Now()}, Sample: 500 * time.Millisecond}
	lctx, stop := context.WithCancel(ctx)
	served := make(chan struct{})
	go func() { defer close(served); _ = live.Serve(lctx) }()
	mux := http.NewServeMux()
	(&web.API{Calls: calls, Auth: auth, Logger: log, MaxWait: 30 * time.Second}).Register(mux)
	(&web.Pages{SWF: filepath.Join(t.TempDir(), "none.swf")}).Register(mux)
	(&web.Admin{Auth: auth, Roles: adminRoles{"root": "admin", "alice": "user", "bob": "user"}, CDRs: db, Users: db,
		Live: live, Logger: log}).Register(mux)
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		hs.Close()
		stop()
		<-served
		confs.Close()
		calls.Close()
		sink.wg.Wait()
		db.Close()
	})
	return &adminEnv{url: hs.URL, rtmpURL: st.URL(phone.Name), calls: calls, confs: confs, db: db, auth: auth}
}

// adminTab is a Chromium tab with bounded, logged steps.
type adminTab struct {
	t   *testing.T
	ctx context.Context
}

// step runs actions within timeout and logs how long they took.
func (a adminTab) step(what string, timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(a.ctx, timeout)
	defer cancel()
	start := time.Now()
	if err := chromedp.Do(ctx, actions...); err != nil {
		a.t.Fatalf("%s: %v", what, err)
	}
	a.t.Logf("%s: %v", what, time.Since(start).Round(time.Millisecond))
}

// phoneResult is how a headless phone's call went.
type phoneResult struct {
	r   *softphone.Result
	err error
}

// startPhoneCall has bob's headless RTMP phone answer alice's, which calls
// him; it returns the call's id once answered and the phones' outcomes.
func startPhoneCall(t *testing.T, env *adminEnv) (id string, alice, bob <-chan phoneResult) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	bobDone, aliceDone := make(chan phoneResult, 1), make(chan phoneResult, 1)
	go func() {
		r, err := softphone.Answer(ctx, softphone.Options{Server: env.rtmpURL, User: "bob", Secret: "bob", SetupTimeout: 20 * time.Second})
		bobDone <- phoneResult{r, err}
	}()
	testwait.For(t, 10*time.Second, "bob's phone online", func() bool { return env.calls.Presence()["bob"] == call.Online })
	go func() {
		r, err := softphone.Call(ctx, softphone.Options{Server: env.rtmpURL, User: "alice", Secret: "alice", SetupTimeout: 20 * time.Second}, "bob")
		aliceDone <- phoneResult{r, err}
	}()
	testwait.For(t, 10*time.Second, "the call answered", func() bool {
		cs := env.calls.Calls()
		if len(cs) == 1 && cs[0].State == "active" {
			id = cs[0].ID
		}
		return id != ""
	})
	return id, aliceDone, bobDone
}

// TestPeerAdminDashboard drives /admin in headless Chromium: the admin
// signs in, a call between two headless RTMP phones shows within 2 s with
// its codecs, the page hangs it up, both phones end with reason admin, and
// the record search finds it; a user is disabled from the page; a user
// signing in sees 403. A SIP contact with markup shows as text. FLASHVOX_ADMIN_SCREENSHOT names a PNG of the
// dashboard to keep (make screenshots writes docs/dashboard.png).
func TestPeerAdminDashboard(t *testing.T) {
	testpeer.SkipShort(t, "chromium")
	env := startAdminEnv(t)
	browser := testpeer.Chromium(t, map[string]any{"mute-audio": true, "window-size": "1024,1100"})
	ctx, cancelTab := chromedp.NewContext(browser)
	defer cancelTab()
	if err := chromedp.Do(ctx); err != nil { // opens the tab: no timeout on this first run
		t.Fatal(err)
	}
	tab := adminTab{t: t, ctx: ctx}
	tab.step("sign in as admin", 10*time.Second,
		signIn(env.url+"/admin", "root"),
		chromedp.WaitVisible(chromedp.CSS(`#dash`)),
		chromedp.WaitVisible(chromedp.CSS(`#calls td.empty`)),
	)
	tab.step("SIP trunk and phone rows", 5*time.Second,
		chromedp.WaitVisible(chromedp.CSS(`#trunks tr[data-trunk="carrier"]`)),
		chromedp.Poll[chromedp.Void](`document.querySelector('#phones tbody').textContent.includes('<img src=x')`))
	if title := text(t, ctx, chromedp.Title()); title != "flashvox · operator" {
		t.Fatalf("a SIP contact ran script in the page: title %q", title)
	}
	id, aliceDone, bobDone := startPhoneCall(t, env)
	// The bound: a running call shows on the dashboard within 2 s.
	tab.step("call on the dashboard", 2*time.Second, chromedp.WaitVisible(chromedp.CSS(`#calls tr[data-call="`+id+`"][data-state="active"]`)))
	tab.step("its codecs", 5*time.Second, chromedp.Poll[chromedp.Void](
		`document.querySelector('#calls tr[data-call]').textContent.includes('speex / speex')`))
	tab.step("the call in the chart", 5*time.Second, chromedp.Poll[chromedp.Void](
		`document.getElementById('chart-calls').dataset.last === '1'`))
	shotDashboard(t, ctx)

	tab.step("hang up from the page", 5*time.Second,
		chromedp.Click(chromedp.CSS(`button[data-hangup="`+id+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#calls td.empty`)))
	for name, ch := range map[string]<-chan phoneResult{"alice": aliceDone, "bob": bobDone} {
		res := <-ch
		if !errors.Is(res.err, softphone.ErrAbnormalEnd) || res.r == nil || res.r.End == nil {
			t.Fatalf("%s's phone: %v", name, res.err)
		}
		if reason, by := res.r.End.GetString("reason"), res.r.End.GetString("by"); reason != call.ReasonAdmin || by != "root" {
			t.Fatalf("%s's phone ended with reason %q by %q, want admin by root", name, reason, by)
		}
	}
	testwait.For(t, 5*time.Second, "the call's record in the store", func() bool {
		cs, err := env.db.CDRs(context.Background(), store.CDRFilter{Limit: 10})
		return err == nil && len(cs) == 1
	})
	tab.step("the record in the search", 5*time.Second,
		chromedp.SetValue(chromedp.CSS(`#cdr-user`), "alice"),
		chromedp.Click(chromedp.CSS(`#cdr-search`)),
		chromedp.WaitVisible(chromedp.CSS(`#cdr tr[data-cdr="`+id+`"]`)))
	if row := text(t, ctx, chromedp.Text(chromedp.CSS(`#cdr tr[data-cdr="`+id+`"]`))); !strings.Contains(row, "bye (admin)") || !strings.Contains(row, "root") {
		t.Fatalf("record row %q", row)
	}
	tab.step("CSV download", 5*time.Second, chromedp.Click(chromedp.CSS(`#cdr-csv`)),
		chromedp.Poll[chromedp.Void](`Number(document.getElementById('cdr-csv-link').dataset.bytes) > 100`))
	testAdminPageRecordKinds(t, tab, env)
	testAdminPageRoom(t, tab, env)
	testAdminPageDisable(t, tab, env)
	testAdminPageForbidden(t, browser, env)
}

// testAdminPageRecordKinds: the records card shows the other kinds with
// their own columns: a WebRTC session's loss both ways, jitter and RTT, a
// SIP leg's peer; the user filter applies to each kind's names (a
// session's stream, a leg's party).
func testAdminPageRecordKinds(t *testing.T, tab adminTab, env *adminEnv) {
	now := time.Now()
	f := func(v float64) *float64 { return &v }
	if err := env.db.AddWebRTCSessions(context.Background(), []store.WebRTCSession{{ID: "w1", Stream: "phone/alice-1", Direction: "whip",
		Addr: "192.0.2.7", Codec: "opus", Engine: "lite", Started: now.Add(-time.Minute), Ended: now, Reason: "deleted",
		LossInPct: f(1.5), JitterMS: f(3.25), RTTMS: f(12)}}); err != nil {
		t.Fatal(err)
	}
	if err := env.db.AddSIPLegs(context.Background(), []store.SIPLeg{{ID: "l1", Direction: "in", Peer: "carol", Party: "alice", Codec: "pcmu",
		Started: now.Add(-time.Minute), Ended: now, Reason: "bye", LossOutPct: f(0.25)}}); err != nil {
		t.Fatal(err)
	}
	tab.step("WebRTC session records", 5*time.Second,
		chromedp.SetValue(chromedp.CSS(`#cdr-user`), "phone/alice-1"),
		chromedp.SetValue(chromedp.CSS(`#cdr-kind`), "webrtc"),
		chromedp.Click(chromedp.CSS(`#cdr-search`)))
	waitRecordRow(t, tab, "w1", "phone/alice-1", "1.50 % / –", "3.3 ms", "12.0 ms", "opus (lite)", "Loss in / out")
	tab.step("SIP leg records", 5*time.Second,
		chromedp.SetValue(chromedp.CSS(`#cdr-user`), "alice"),
		chromedp.SetValue(chromedp.CSS(`#cdr-kind`), "sip"),
		chromedp.Click(chromedp.CSS(`#cdr-search`)))
	waitRecordRow(t, tab, "l1", "carol", "– / 0.25 %", "Party")
	tab.step("back to calls", 5*time.Second,
		chromedp.SetValue(chromedp.CSS(`#cdr-kind`), "call"),
		chromedp.Click(chromedp.CSS(`#cdr-search`)),
		chromedp.WaitNotPresent(chromedp.CSS(`#cdr tr[data-cdr="l1"]`)),
		chromedp.Poll[chromedp.Void](`document.querySelector('#cdr thead').textContent.includes('Caller')`))
}

// waitRecordRow waits until the records table's row id and its header
// read every one of want (the table is drawn anew by each search), and
// fails with what they read last.
func waitRecordRow(t *testing.T, tab adminTab, id string, want ...string) {
	t.Helper()
	w, _ := json.Marshal(want)
	read := `(() => { const r = document.querySelector('#cdr tr[data-cdr="` + id + `"]'); return (r ? r.textContent : '(no row)') + ' | ' + document.querySelector('#cdr thead').textContent; })()`
	ctx, cancel := context.WithTimeout(tab.ctx, 5*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](`(() => { const got = `+read+`; return `+string(w)+`.every((x) => got.includes(x)); })()`)); err != nil {
		got, _ := chromedp.Run(tab.ctx, chromedp.Evaluate[string](read))
		t.Fatalf("record row %s: %v; it reads %q, want %q", id, err, got, want)
	}
}

// testAdminPageRoom: a room with two members; the operator mutes one and
// locks the room from the page (the room service says so, the page shows
// it), then unmutes and unlocks.
func testAdminPageRoom(t *testing.T, tab adminTab, env *adminEnv) {
	m, _, err := env.confs.Join("standup", conference.JoinOptions{User: "alice", Mode: conference.ModeRelay})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Leave()
	m2, _, err := env.confs.Join("standup", conference.JoinOptions{User: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Leave()
	mute, lock := `button[data-mute="`+m2.ID+`"]`, `button[data-lock-room="standup"]`
	tab.step("the room's row", 5*time.Second, chromedp.WaitVisible(chromedp.CSS(mute)), chromedp.WaitVisible(chromedp.CSS(lock)))
	tab.step("mute bob and lock the room", 5*time.Second,
		chromedp.Click(chromedp.CSS(mute)),
		chromedp.Poll[chromedp.Void](`document.querySelector('#rooms tr[data-room="standup"]').textContent.includes('bob (muted)')`),
		chromedp.Click(chromedp.CSS(lock)),
		chromedp.Poll[chromedp.Void](`document.querySelector('#rooms tr[data-room="standup"]').textContent.includes('standup (locked)')`))
	rs := env.confs.Rooms()
	if len(rs) != 1 || !rs[0].Locked {
		t.Fatalf("rooms after the clicks: %+v", rs)
	}
	for _, mi := range rs[0].Members {
		if mi.Muted != (mi.ID == m2.ID) {
			t.Fatalf("member %+v after muting bob", mi)
		}
	}
	tab.step("unmute and unlock", 5*time.Second,
		chromedp.Click(chromedp.CSS(mute)),
		chromedp.Poll[chromedp.Void](`!document.querySelector('#rooms tr[data-room="standup"]').textContent.includes('(muted)')`),
		chromedp.Click(chromedp.CSS(lock)),
		chromedp.Poll[chromedp.Void](`!document.querySelector('#rooms tr[data-room="standup"]').textContent.includes('(locked)')`))
	if rs := env.confs.Rooms(); rs[0].Locked || rs[0].Members[1].Muted {
		t.Fatalf("rooms after undoing: %+v", rs)
	}
}

// testAdminPageDisable: carol's RTMP phone is online; two clicks on her
// Disable button disable her account in the store, end her session (she
// leaves the online list).
func testAdminPageDisable(t *testing.T, tab adminTab, env *adminEnv) {
	ctx := context.Background()
	if err := env.db.AddUser(ctx, store.User{Name: "carol", Role: store.RoleUser, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	carol, err := rtmp.Dial(dctx, env.rtmpURL, rtmp.ClientOptions{ConnectArgs: []any{"carol", "carol"}})
	if err != nil {
		t.Fatal(err)
	}
	defer carol.Close()
	sel := `button[data-disable="carol"]`
	tab.step("carol online", 5*time.Second, chromedp.WaitVisible(chromedp.CSS(sel)))
	tab.step("first click asks", 5*time.Second, chromedp.Click(chromedp.CSS(sel)), chromedp.WaitVisible(chromedp.CSS(sel+`[data-armed]`)))
	if u, _ := env.db.User(ctx, "carol"); !u.Enabled {
		t.Fatal("one click disabled carol")
	}
	tab.step("second click disables", 5*time.Second, chromedp.Click(chromedp.CSS(sel)), chromedp.WaitNotPresent(chromedp.CSS(`#users tr[data-user="carol"]`)))
	if u, _ := env.db.User(ctx, "carol"); u.Enabled {
		t.Fatal("carol is still enabled in the store")
	}
}

// testAdminPageForbidden: a user who signs in at /admin sees 403, and
// every admin route answers a user's token 403.
func testAdminPageForbidden(t *testing.T, browser context.Context, env *adminEnv) {
	tab, cancel := chromedp.NewContext(browser) // a new tab: its own sessionStorage
	defer cancel()
	if err := chromedp.Do(tab); err != nil {
		t.Fatal(err)
	}
	ctx, cancelRun := context.WithTimeout(tab, 10*time.Second)
	defer cancelRun()
	if err := chromedp.Do(ctx,
		signIn(env.url+"/admin", "alice"),
		chromedp.WaitVisible(chromedp.CSS(`#forbidden`)),
	); err != nil {
		t.Fatalf("user at /admin: %v", err)
	}
	if v := text(t, tab, chromedp.Evaluate[string](`String(document.getElementById('dash').hidden)`)); v != "true" {
		t.Fatalf("the dashboard shows for a user (hidden %s)", v)
	}
	tok, _, _ := env.auth.Login("alice", "alice")
	for _, r := range [][2]string{{"GET", "/admin"}, {"GET", "/api/v1/admin/live"}, {"GET", "/api/v1/admin/history"},
		{"POST", "/api/v1/admin/calls/x/hangup"}, {"GET", "/api/v1/admin/cdr"}, {"PATCH", "/api/v1/admin/users/bob"}} {
		req, _ := http.NewRequest(r[0], env.url+r[1], nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("user %s %s: %d", r[0], r[1], res.StatusCode)
		}
	}
}

// shotDashboard checks that the dashboard renders to a PNG under 100 KB
// and, with FLASHVOX_ADMIN_SCREENSHOT set, keeps it there.
func shotDashboard(t *testing.T, tab context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 5*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if len(png) < 1000 || string(png[1:4]) != "PNG" || len(png) > 100<<10 {
		t.Fatalf("screenshot: %d bytes, want a PNG under 100 KB", len(png))
	}
	if p := os.Getenv("FLASHVOX_ADMIN_SCREENSHOT"); p != "" {
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s (%d bytes)", p, len(png))
	}
}
