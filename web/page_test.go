package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/apps/phone"
	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/teststack"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/rtmp"
	"github.com/flashvox/flashvox/session"
	"github.com/flashvox/flashvox/softphone"
	"github.com/flashvox/flashvox/web"
)

// pageEnv is the HTTP listener (page and API) and the RTMP phone app over
// one call.Service, as flashvox runs them.
type pageEnv struct {
	url, rtmpURL string
	calls        *call.Service
}

func startPageEnv(t *testing.T) *pageEnv {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	calls := call.NewService(call.Options{RingTimeout: time.Minute}, "alice", "bob", "carol")
	auth := account.NewAuth(account.AuthOptions{Users: map[string]string{"alice": "alice", "bob": "bob", "carol": "carol"}})
	mux := http.NewServeMux()
	(&web.API{Calls: calls, Auth: auth, Logger: log, MaxWait: 30 * time.Second}).Register(mux)
	(&web.Pages{SWF: filepath.Join(t.TempDir(), "none.swf")}).Register(mux)
	hs := httptest.NewServer(mux)

	t.Cleanup(func() { hs.Close(); calls.Close() })
	st := teststack.Start(t, teststack.Options{Apps: map[string]session.App{
		phone.Name: &phone.App{Calls: calls, Auth: auth, Logger: log},
	}})
	return &pageEnv{url: hs.URL, rtmpURL: st.URL(phone.Name), calls: calls}
}

// bye writes to user's log the end of a call with bob, as the call
// service does, for the page to show.
func (e *pageEnv) bye(user, reason string) {
	e.calls.Log(user).Append(time.Now(), call.Event{Type: call.EvBye, Call: "ended-" + reason, From: "bob", To: user,
		Reason: reason, By: "bob"})
}

// chromium is testpeer.Chromium on a phone-sized screen, muted.
func chromium(t *testing.T) context.Context {
	t.Helper()
	return testpeer.Chromium(t, map[string]any{"mute-audio": true, "window-size": "390,844"})
}

// TestPageSignalling drives the page in headless Chromium: alice signs in
// through the page, sees bob come online when his phone connects, gets the
// incoming-call notice when bob's headless phone calls, answers, and sees
// the call end — with long-poll and with polling once a second. A call
// that ended before the sign-in shows no banner, a bye for a restart says
// so, and the Flash box explains that the SWF is not built.
func TestPageSignalling(t *testing.T) {
	env := startPageEnv(t)
	browser := chromium(t)
	env.bye("alice", call.ReasonHangup) // a call that ended before she signs in: history, not news
	for _, mode := range []string{"longpoll", "poll"} {
		t.Run(mode, func(t *testing.T) {
			tab, cancel := chromedp.NewContext(browser)
			defer cancel()
			if err := chromedp.Do(tab); err != nil { // opens the tab: no timeout on this first run
				t.Fatal(err)
			}
			step := func(what string, timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) {
				t.Helper()
				ctx, cancel := context.WithTimeout(tab, timeout)
				defer cancel()
				start := time.Now()
				if err := chromedp.Do(ctx, actions...); err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				t.Logf("%s: %v", what, time.Since(start).Round(time.Millisecond))
			}
			step("load and sign in", 10*time.Second,
				signIn(env.url+"/?mode="+mode, "alice"),
				chromedp.WaitVisible(chromedp.CSS(`#phone`)),
				chromedp.WaitVisible(chromedp.CSS(`#contacts li[data-user="bob"][data-status="offline"]`)),
			)
			if modeNow := text(t, tab, chromedp.Value(chromedp.CSS(`#mode-live`))); modeNow != mode {
				t.Fatalf("page runs %q, want %q", modeNow, mode)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			bob, err := rtmp.Dial(ctx, env.rtmpURL, rtmp.ClientOptions{ConnectArgs: []any{"bob", "bob"}})
			if err != nil {
				t.Fatal(err)
			}
			defer bob.Close()
			step("bob online", 3*time.Second,
				chromedp.WaitVisible(chromedp.CSS(`#contacts li[data-user="bob"][data-status="online"]`)))
			// bob's presence came after any replayed event: none may show.
			if n := text(t, tab, chromedp.TextContent(chromedp.CSS(`#notice`))); n != "" {
				t.Fatalf("a fresh sign-in shows %q", n)
			}
			step("SWF not built", time.Second, chromedp.WaitVisible(chromedp.CSS(`#swf-missing`)))

			// bob's headless phone calls alice and hangs up 300 ms after the answer.
			bobDone := make(chan error, 1)
			go func() {
				_, err := softphone.Call(ctx, softphone.Options{Server: env.rtmpURL, User: "bob", Secret: "bob",
					Duration: 300 * time.Millisecond, SetupTimeout: 10 * time.Second}, "alice")
				bobDone <- err
			}()
			step("incoming call notice", 3*time.Second, chromedp.WaitVisible(chromedp.CSS(`#answer`)))
			if s := text(t, tab, chromedp.Text(chromedp.CSS(`#call-state`))); s != "Incoming call from bob" {
				t.Fatalf("call box says %q", s)
			}
			if mode == "longpoll" {
				shot(t, tab)
			}
			step("answer", 3*time.Second,
				chromedp.Click(chromedp.CSS(`#answer`)),
				chromedp.WaitVisible(chromedp.CSS(`#hangup`)))
			if err := <-bobDone; err != nil {
				t.Fatalf("bob: %v", err)
			}
			step("call ended", 3*time.Second, chromedp.Query(chromedp.CSS(`#call[hidden]`), chromedp.NodeReady))
			notice := text(t, tab, chromedp.Text(chromedp.CSS(`#notice`)))
			if notice != "Call ended by bob" {
				t.Fatalf("notice after bye %q", notice)
			}
			env.bye("alice", "shutdown") // as call.Service.Close ends calls, without closing this test's
			step("restart notice", 3*time.Second, chromedp.WaitVisible(chromedp.CSS(`#notice`)),
				chromedp.Poll[chromedp.Void](`document.getElementById('notice').textContent === 'Call ended: the server is restarting'`))
		})
	}
}

// shot saves a PNG of the page; FLASHVOX_SCREENSHOT names a copy to keep
// (make screenshots).
func shot(t *testing.T, tab context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 3*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if len(png) < 1000 || string(png[1:4]) != "PNG" {
		t.Fatalf("screenshot is not a PNG (%d bytes)", len(png))
	}
	if p := os.Getenv("FLASHVOX_SCREENSHOT"); p != "" {
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s (%d bytes)", p, len(png))
	}
}

// text runs a query that returns a string, bounded to a second.
func text(t *testing.T, tab context.Context, a chromedp.Action[string]) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestPeerPageRingingAtSignIn: the page starts at the login's cursor, so a call
// that rang before the sign-in (on alice's RTMP phone) has no event for it
// to read; the page finds it in GET /api/v1/calls and can answer it.
func TestPeerPageRingingAtSignIn(t *testing.T) {
	testpeer.SkipShort(t, "chromium")
	env := startPageEnv(t)
	browser := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	phoneConn, err := rtmp.Dial(ctx, env.rtmpURL, rtmp.ClientOptions{ConnectArgs: []any{"alice", "alice"}})
	if err != nil {
		t.Fatal(err)
	}
	defer phoneConn.Close()
	bobDone := make(chan error, 1)
	go func() {
		_, err := softphone.Call(ctx, softphone.Options{Server: env.rtmpURL, User: "bob", Secret: "bob",
			Duration: 300 * time.Millisecond, SetupTimeout: 10 * time.Second}, "alice")
		bobDone <- err
	}()
	testwait.For(t, 5*time.Second, "bob's call ringing for alice", func() bool { return len(env.calls.CallStates("alice")) > 0 })

	tab, cancelTab := chromedp.NewContext(browser)
	defer cancelTab()
	if err := chromedp.Do(tab); err != nil { // opens the tab: no timeout on this first run
		t.Fatal(err)
	}
	sctx, scancel := context.WithTimeout(tab, 10*time.Second)
	defer scancel()
	if err := chromedp.Do(sctx,
		signIn(env.url+"/", "alice"),
		chromedp.WaitVisible(chromedp.CSS(`#answer`)),
	); err != nil {
		t.Fatalf("sign in to a ringing call: %v", err)
	}
	if s := text(t, tab, chromedp.Text(chromedp.CSS(`#call-state`))); s != "Incoming call from bob" {
		t.Fatalf("call box says %q", s)
	}
	if err := chromedp.Do(sctx, chromedp.Click(chromedp.CSS(`#answer`)), chromedp.WaitVisible(chromedp.CSS(`#hangup`))); err != nil {
		t.Fatalf("answer: %v", err)
	}
	if err := <-bobDone; err != nil {
		t.Fatalf("bob: %v", err)
	}
}

// signIn loads url and signs in as user (password = name) through the
// page's own form.
func signIn(url, user string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.CSS(`#login-form`)),
		chromedp.SendKeys(chromedp.CSS(`#user`), user),
		chromedp.SendKeys(chromedp.CSS(`#password`), user),
		chromedp.Click(chromedp.CSS(`#login-button`)),
	)
}
