package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/store"
)

// pageCluster is two nodes, a and b, sharing one PostgreSQL store and
// announcing their page URLs (heartbeat 500 ms), with alice's page, in
// headless Chromium, signed in on a and knowing b's page.
type pageCluster struct {
	t            *testing.T
	a, b         *server
	aPage, bPage string
	pgURL        string
	browser, tab context.Context
}

// startPageCluster starts it; yaml is added to the nodes' configuration,
// flags to Chromium's, opts to the tab's.
func startPageCluster(t *testing.T, yaml string, flags map[string]any, opts ...chromedp.ContextOption) *pageCluster {
	t.Helper()
	start := time.Now()
	browser := testpeer.Chromium(t, flags)
	pg := testpeer.StartPostgres(t)
	routes := []string{"127.0.0.1:" + strconv.Itoa(testpeer.FreePort(t)), "127.0.0.1:" + strconv.Itoa(testpeer.FreePort(t))}
	yaml += fmt.Sprintf("cluster:\n  routes: [%s]\n", strings.Join(routes, ", "))
	var nodes []*server
	for i, name := range []string{"a", "b"} {
		addr := freeAddr(t)
		nodes = append(nodes, startClusterNode(t, name, yaml, "FLASHVOX_CLUSTER_LISTEN="+routes[i], "FLASHVOX_DATABASE_URL="+pg.URL,
			"FLASHVOX_HTTP_LISTEN="+addr, "FLASHVOX_CLUSTER_HTTP_URL=http://"+addr, "FLASHVOX_CALL_RING_TIMEOUT=30s"))
	}
	for _, s := range nodes {
		testwait.For(t, 15*time.Second, "both nodes in /api/v1/cluster", func() bool { return strings.Join(clusterNodes(t, s), ",") == "a,b" })
	}
	t.Logf("chromium, postgresql and two nodes up in %v", time.Since(start).Round(10*time.Millisecond))
	pc := &pageCluster{t: t, a: nodes[0], b: nodes[1], pgURL: pg.URL, browser: browser,
		aPage: strings.TrimSuffix(nodes[0].api, "/api/v1"), bPage: strings.TrimSuffix(nodes[1].api, "/api/v1")}
	tab, cancel := chromedp.NewContext(browser, opts...)
	t.Cleanup(cancel)
	if err := chromedp.Do(tab); err != nil { // opens the tab: no timeout on this first run, the tab lives as long as it
		t.Fatal(err)
	}
	pc.tab = tab
	pc.do("alice signs in on a", 15*time.Second,
		chromedp.Navigate(pc.aPage+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#login-form`)),
		chromedp.SendKeys(chromedp.CSS(`#user`), "alice"),
		chromedp.SendKeys(chromedp.CSS(`#password`), "alice"),
		chromedp.Click(chromedp.CSS(`#login-button`)),
		chromedp.WaitVisible(chromedp.CSS(`#phone`)))
	// The page knows b's page before a goes.
	testwait.For(t, 10*time.Second, "the page to know b's page", func() bool {
		return eval[string](t, tab, `flashvoxPage.state().pages.join(' ')`) == pc.bPage+"/"
	})
	t.Logf("alice's page signed in on a and knows b's %v after the start", time.Since(start).Round(10*time.Millisecond))
	return pc
}

// do runs actions in alice's tab within a bound.
func (pc *pageCluster) do(what string, within time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	pc.t.Helper()
	ctx, cancel := context.WithTimeout(pc.tab, within)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		pc.t.Fatalf("%s: %v", what, err)
	}
}

// killA SIGKILLs node a and waits until alice's page is signed in on b
// (the tab navigates on the way: ask again until b's page says so), with
// the fragment gone from its address. It returns the time of the kill.
func (pc *pageCluster) killA() time.Time {
	t := pc.t
	t.Helper()
	if err := pc.a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	onB := fmt.Sprintf(`location.origin === %q && !document.getElementById('phone').hidden && document.getElementById('me').textContent === 'alice' && document.getElementById('conn').classList.contains('on')`, pc.bPage)
	testwait.ForDetail(t, 10*time.Second, "alice's page signed in on b", func() bool {
		ctx, cancel := context.WithTimeout(pc.tab, time.Second)
		defer cancel()
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](onB))
		return err == nil && ok
	}, func() string {
		ctx, cancel := context.WithTimeout(pc.tab, time.Second)
		defer cancel()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[location.href, document.getElementById('conn').textContent, document.getElementById('login-error').textContent, document.getElementById('notice').textContent].join(' | ')`))
		return fmt.Sprintf("the page: %s (%v)", v, err)
	})
	t.Logf("the page was signed in on b %v after a's SIGKILL", time.Since(killed).Round(10*time.Millisecond))
	if href := eval[string](t, pc.tab, `location.href`); href != pc.bPage+"/" {
		t.Fatalf("the page's address on b is %q: the fragment must be gone", href)
	}
	return killed
}

// handOver opens a new tab on b's page with fragment, as a page of a lost
// node would, with referrer ("" = none: a link followed from elsewhere),
// and waits for what (a CSS selector) to show.
func (pc *pageCluster) handOver(t *testing.T, fragment, referrer, what string) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(pc.browser)
	t.Cleanup(cancel)
	if err := chromedp.Do(tab); err != nil {
		t.Fatal(err)
	}
	ctx, cancel2 := context.WithTimeout(tab, 10*time.Second)
	defer cancel2()
	navigate := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		res, err := cdp.Call(ctx, tg, page.Navigate, page.NavigateParams{URL: pc.bPage + "/#" + fragment, Referrer: referrer})
		if err == nil && res.ErrorText != "" {
			err = fmt.Errorf("navigate: %s", res.ErrorText)
		}
		return err
	})
	if err := chromedp.Do(ctx, navigate, chromedp.WaitVisible(chromedp.CSS(what))); err != nil {
		t.Fatal(err)
	}
	return tab
}

// TestPeerClusterPageFailover: nodes a and b share one PostgreSQL store
// and announce their page URLs. alice's page, in headless Chromium, signs
// in on a (and counts in a's load as a page user) and answers a call of
// bob, an HTTP API user on b. a is SIGKILLed: the page moves to b with
// its session, says the call ended and does not redo it (bob gets bye
// node_lost); alice is online there (the page says so, and so does b's
// API) and bob calls her again: the page rings and she answers, within
// 10 s of the kill. The token crossed in the URL fragment only: no
// request of the browser carries it. Hostile hand-overs to b's page —
// bob's token under alice's name, an expired token, a forged one — end
// on the sign-in form, the fragment gone from the address bar.
func TestPeerClusterPageFailover(t *testing.T) {
	testpeer.SkipShort(t, "real processes, chromium and postgresql")
	// Every request the browser sends, as the network sees it.
	var mu sync.Mutex
	var requests []string
	pc := startPageCluster(t, "", map[string]any{"mute-audio": true, "use-fake-device-for-media-stream": true},
		chromedp.WithListener(func(ev any) {
			if e, ok := ev.(*network.EventRequestWillBeSent); ok {
				mu.Lock()
				requests = append(requests, e.Request.URL)
				mu.Unlock()
			}
		}))
	b, tab := pc.b, pc.tab
	token := eval[string](t, tab, `flashvoxPage.state().token`)
	if !strings.HasPrefix(token, "v1.alice.") {
		t.Fatalf("the page's token %q", token)
	}
	// alice's page is a's page user, as b hears from a's heartbeats.
	testwait.For(t, 10*time.Second, "a's load to count alice's page", func() bool { return loadOf(t, b, "a").Pages == 1 })
	// bob, an HTTP API user on b, calls alice's page on a; she answers.
	bob := b.login(t, "bob")
	var out struct{ Call string }
	if code := bob.do("POST", "/calls", `{"to":"alice"}`, &out); code != 201 {
		t.Fatalf("bob's call to alice on a: %d", code)
	}
	pc.do("bob's call rings on alice's page on a", 5*time.Second, chromedp.WaitVisible(chromedp.CSS(`#answer`)))
	pc.do("alice answers on a", 5*time.Second, chromedp.Click(chromedp.CSS(`#answer`)), chromedp.WaitVisible(chromedp.CSS(`#hangup`)))
	bob.expect("ringing", "", 5*time.Second)
	bob.expect("accepted", "", 5*time.Second)

	killed := pc.killA()
	// The call is not redone on b: it ended with a (bob hears node_lost),
	// and the page says so.
	if n := eval[string](t, tab, `document.getElementById('notice').textContent`); !strings.Contains(n, "moved to this one") || !strings.Contains(n, "the call with bob ended") {
		t.Errorf("the page does not say it moved and the call ended: %q", n)
	}
	if v := eval[string](t, tab, `String(!!flashvoxPage.state().call) + '|' + document.getElementById('call').hidden`); v != "false|true" {
		t.Errorf("call on the page|call box hidden: %q, want no call", v)
	}
	bob.expect("bye", "node_lost", 10*time.Second)
	var pres struct{ Users map[string]string }
	testwait.For(t, 10*time.Second, "alice online for bob on b", func() bool {
		bob.do("GET", "/presence", "", &pres)
		return pres.Users["alice"] == "online"
	})
	if code := bob.do("POST", "/calls", `{"to":"alice"}`, &out); code != 201 {
		t.Fatalf("bob's call to alice on b: %d", code)
	}
	pc.do("the call rings on alice's page", 5*time.Second, chromedp.WaitVisible(chromedp.CSS(`#answer`)))
	if s := eval[string](t, tab, `document.getElementById('call-state').textContent`); s != "Incoming call from bob" {
		t.Fatalf("call box says %q", s)
	}
	rang := time.Since(killed)
	pc.do("alice answers on b", 5*time.Second, chromedp.Click(chromedp.CSS(`#answer`)), chromedp.WaitVisible(chromedp.CSS(`#hangup`)))
	bob.expect("ringing", "", 5*time.Second)
	bob.expect("accepted", "", 5*time.Second)
	t.Logf("bob's call rang on alice's page %v after a's SIGKILL", rang.Round(10*time.Millisecond))
	if rang > 10*time.Second {
		t.Errorf("alice callable again only %v after the kill, want ≤ 10 s", rang)
	}
	if code := bob.do("POST", "/calls/"+out.Call+"/hangup", "", nil); code != 200 {
		t.Fatalf("hangup: %d", code)
	}
	mu.Lock()
	for _, u := range requests {
		if strings.Contains(u, token) || strings.Contains(u, "token=") {
			t.Errorf("a request carries the token: %s", u)
		}
	}
	t.Logf("%d requests, none with the token", len(requests))
	mu.Unlock()

	// Hostile hand-overs to b's page: each ends on the sign-in form with
	// the fragment gone.
	db, err := store.Open(context.Background(), pc.pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	secret, err := db.Secret(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, user, token, says string }{
		{"bob's token under alice's name", "alice", bob.token, "not alice's"},
		{"an expired token", "alice", account.MintToken(secret, "alice", time.Now().Add(-time.Minute)), "Session expired"},
		{"a forged token", "alice", account.MintToken([]byte("not-the-cluster-secret"), "alice", time.Now().Add(time.Hour)), "Sign in again"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tab := pc.handOver(t, "user="+c.user+"&token="+c.token+"&mode=longpoll", pc.aPage+"/", `#login-error`)
			if e := eval[string](t, tab, `document.getElementById('login-error').textContent`); !strings.Contains(e, c.says) {
				t.Errorf("sign-in error %q, want %q", e, c.says)
			}
			if v := eval[string](t, tab, `[document.getElementById('phone').hidden, document.getElementById('login').hidden, location.hash, flashvoxPage.state().token].join('|')`); v != "true|false||" {
				t.Errorf("phone hidden|login hidden|hash|token: %q, want the sign-in, no fragment, no token", v)
			}
		})
	}
}

// eval evaluates js in the tab, bounded to 5 s.
func eval[T any](t *testing.T, tab context.Context, js string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 5*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// nodeLoad is a node's load as /api/v1/cluster tells it.
type nodeLoad struct{ Connections, Pages, Users int }

// loadOf is node's load as s tells it (zero when not listed).
func loadOf(t *testing.T, s *server, node string) nodeLoad {
	t.Helper()
	var out struct {
		Nodes []struct {
			Node string
			Load nodeLoad
		}
	}
	json.Unmarshal([]byte(httpGet(t, s.api+"/cluster")), &out)
	for _, n := range out.Nodes {
		if n.Node == node {
			return n.Load
		}
	}
	return nodeLoad{}
}
