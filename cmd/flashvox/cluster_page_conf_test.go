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

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

// pageRoom is what window.flashvoxConf.state() says of the page's room.
type pageRoom struct {
	Room    string
	Plays   int
	Members []struct{ User string }
}

// pageRoomOf is the room of the page in tab (Room "" when in none).
func pageRoomOf(t *testing.T, tab context.Context) pageRoom {
	t.Helper()
	var r pageRoom
	if err := json.Unmarshal([]byte(eval[string](t, tab, `JSON.stringify(window.flashvoxConf.state() || {})`)), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestPeerClusterPageRejoin: alice's page, signed in on a, joins the
// mixed room "talk" first (a takes its lease and holds it), and bob's
// headless phone (RTMP, Nellymoser, 650 Hz) joins it through b. a is
// SIGKILLed: the room moves to b with bob, and alice's page, moved to b,
// joins it again by itself (WHIP publish and WHEP play set up anew, two
// WebRTC sessions on b), shows it, says so, and hears bob again, within
// 10 s of the kill. A hand-over naming another room, "board" (with a
// PIN), is refused as any join without its PIN is, and one from a link
// elsewhere (not from a node's page: no such referrer) joins nothing: the
// page is signed in, in no room, says why, and b's rooms gain no member.
func TestPeerClusterPageRejoin(t *testing.T) {
	testpeer.SkipShort(t, "real processes, chromium and postgresql")
	const bobHz = 650
	// The answers to the page's joins of talk, to log how the move went.
	var mu sync.Mutex
	var joins []string
	pc := startPageCluster(t, "conference:\n  rooms:\n    - {name: talk, mode: mixed}\n    - {name: board, pin: \"4321\"}\n",
		map[string]any{"use-fake-device-for-media-stream": true}, chromedp.WithListener(func(ev any) {
			if e, ok := ev.(*network.EventResponseReceived); ok && strings.HasSuffix(e.Response.URL, "/conferences/talk/join") {
				mu.Lock()
				joins = append(joins, strconv.FormatInt(e.Response.Status, 10))
				mu.Unlock()
			}
		}))
	a, b, tab := pc.a, pc.b, pc.tab
	pc.do("alice joins talk on a", 10*time.Second,
		chromedp.SendKeys(chromedp.CSS(`#conf-room`), "talk"),
		chromedp.Click(chromedp.CSS(`#conf-join-button`)),
		chromedp.WaitVisible(chromedp.CSS(`#conf`)))
	b.phone(t, "bob", "call", "conf:talk", "--duration", "60s", "--codec", "nellymoser", "--play", writeConfTone(t, bobHz, 16000, 1))
	onA, onB := a.login(t, "carol"), b.login(t, "carol") // to ask each node about the room
	testwait.For(t, 15*time.Second, "the page to list alice and bob, the room held by a", func() bool {
		return len(pageRoomOf(t, tab).Members) == 2 && roomMembers(onA, "talk") == 2
	})
	if n := roomMembers(onB, "talk"); n != -1 {
		t.Fatalf("b holds talk too (%d members)", n)
	}
	testwait.For(t, 10*time.Second, "the page to hear bob on a", func() bool {
		return eval[float64](t, tab, fmt.Sprintf(`flashvoxConf.levelAt(%d)`, bobHz)) > -60
	})

	killed := pc.killA()
	var r pageRoom
	testwait.ForDetail(t, 10*time.Second, "alice's page in talk again, on b, with bob", func() bool {
		r = pageRoomOf(t, tab)
		return r.Room == "talk" && r.Plays == 1 && len(r.Members) == 2 && roomMembers(onB, "talk") == 2
	}, func() string {
		return fmt.Sprintf("the page's room %+v, b's talk %d members, notice %q", r, roomMembers(onB, "talk"),
			eval[string](t, tab, `document.getElementById('notice').textContent`))
	})
	rejoined := time.Since(killed)
	if users := r.Members[0].User + "," + r.Members[1].User; users != "alice,bob" && users != "bob,alice" {
		t.Errorf("the page's room lists %s, want alice and bob", users)
	}
	if n := eval[string](t, tab, `document.getElementById('notice').textContent`); !strings.Contains(n, "moved to this one and rejoined room talk") {
		t.Errorf("the page does not say it rejoined: %q", n)
	}
	if v := eval[string](t, tab, `[document.getElementById('conf').hidden, document.getElementById('conf-title').textContent].join('|')`); v != "false|talk" {
		t.Errorf("room box hidden|title: %q, want the room shown", v)
	}
	testwait.For(t, 10*time.Second, "the page's publish and play on b (2 WebRTC sessions)", func() bool {
		return strings.Contains(httpGet(t, pc.bPage+"/metrics"), "\nflashvox_webrtc_sessions 2\n")
	})
	var level float64
	testwait.For(t, 10*time.Second, "the page to hear bob again", func() bool {
		level = eval[float64](t, tab, fmt.Sprintf(`flashvoxConf.levelAt(%d)`, bobHz))
		return level > -60
	})
	heard := time.Since(killed)
	mu.Lock()
	t.Logf("the page's joins of talk answered %s (a's, then b's)", strings.Join(joins, " "))
	mu.Unlock()
	t.Logf("after a's SIGKILL: the page back in talk on b in %v, hears bob (%.1f dB) in %v", rejoined.Round(10*time.Millisecond),
		level, heard.Round(10*time.Millisecond))
	if heard > 10*time.Second {
		t.Errorf("bob heard again only %v after the kill, want ≤ 10 s", heard)
	}

	// Hostile hand-overs: a fragment edited to another room gets the
	// normal join's refusal; a link from elsewhere (no referrer from a
	// node) lends its session but joins no room.
	token := eval[string](t, tab, `flashvoxPage.state().token`)
	for _, c := range []struct{ name, room, referrer, says string }{
		{"board instead of talk", "board", pc.aPage + "/", "could not rejoin room board: Wrong PIN"},
		{"a link from elsewhere", "talk", "", "room talk not rejoined: this link did not come from a server of this cluster"},
	} {
		t.Run(c.name, func(t *testing.T) {
			other := pc.handOver(t, "user=alice&token="+token+"&mode=longpoll&room="+c.room, c.referrer, `#phone`)
			testwait.ForDetail(t, 10*time.Second, "the page to say why it is in no room", func() bool {
				return strings.Contains(eval[string](t, other, `document.getElementById('notice').textContent`), c.says)
			}, func() string { return eval[string](t, other, `document.getElementById('notice').textContent`) })
			if v := eval[string](t, other, `[document.getElementById('conf').hidden, String(window.flashvoxConf.state()), location.hash].join('|')`); v != "true|null|" {
				t.Errorf("room box hidden|room|hash: %q, want no room, no fragment", v)
			}
		})
	}
	if n := roomMembers(onB, "board"); n > 0 {
		t.Errorf("b's board has %d members", n)
	}
	if n := roomMembers(onB, "talk"); n != 2 {
		t.Errorf("b's talk has %d members, want alice's first page and bob", n)
	}
}
