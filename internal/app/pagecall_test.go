//go:build cgo

package app

import (
	"context"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/softphone"
	"github.com/flashvox/flashvox/store"
)

// pageApp is the configured services with the HTTP routes (page, API,
// WHIP/WHEP) and an RTMP listener for headless phones.
type pageApp struct {
	*p2pApp
	rtmp string // rtmp://ADDR/phone
}

func startPageApp(t *testing.T) *pageApp {
	t.Helper()
	return startPageAppYAML(t, "")
}

// startPageAppYAML is startPageApp with a configuration file's text.
func startPageAppYAML(t *testing.T, fileYAML string) *pageApp {
	t.Helper()
	a := startP2PApp(t, fileYAML)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = a.srv.serveRTMP(ctx, ln) }()
	t.Cleanup(func() { cancel(); ln.Close(); <-done })
	return &pageApp{p2pApp: a, rtmp: "rtmp://" + ln.Addr().String() + "/phone"}
}

// pageBrowser is a Chromium whose fake microphone plays a tone of hz.
func pageBrowser(t *testing.T, hz float64) context.Context {
	t.Helper()
	wav := filepath.Join(t.TempDir(), fmt.Sprintf("tone%.0f.wav", hz))
	if err := audiotest.WriteWAV(wav, audiotest.Sine(48000, 48000*5, hz, 0.3), 48000); err != nil {
		t.Fatal(err)
	}
	return testpeer.Chromium(t, map[string]any{"use-fake-device-for-media-stream": true,
		"use-file-for-fake-audio-capture": wav, "window-size": "420,900"})
}

// pageTab is one signed-in page.
type pageTab struct {
	t    *testing.T
	ctx  context.Context
	user string
}

// signIn opens the page in browser's first tab (the only one: a second
// tab would be in the background, its timers throttled) and signs in as
// user (password = user).
func signIn(t *testing.T, browser context.Context, url, user string) *pageTab {
	t.Helper()
	p := &pageTab{t: t, ctx: browser, user: user}
	p.do("sign in as "+user, 15*time.Second,
		chromedp.Navigate(url+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#login-form`)),
		chromedp.SendKeys(chromedp.CSS(`#user`), user),
		chromedp.SendKeys(chromedp.CSS(`#password`), user),
		chromedp.Click(chromedp.CSS(`#login-button`)),
		chromedp.WaitVisible(chromedp.CSS(`#phone`)))
	return p
}

func (p *pageTab) do(what string, within time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, within)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("%s: %s: %v", p.user, what, err)
	}
}

// eval evaluates js in the page (awaiting a promise).
func pageEval[T any](p *pageTab, js string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("%s: evaluate %s: %v", p.user, js, err)
	}
	return v
}

// mediaState is window.flashvoxMedia.state().
type mediaState struct {
	Call    string  `json:"call"`
	Mode    string  `json:"mode"`
	HeardHz float64 `json:"heardHz"`
	MicHz   float64 `json:"micHz"`
	Stats   struct {
		Lost     float64 `json:"lost"`
		Received float64 `json:"received"`
		Jitter   float64 `json:"jitter"`
		RTT      float64 `json:"rtt"`
		Sent     float64 `json:"sent"`
		SentLost float64 `json:"sentLost"`
		Reports  float64 `json:"reports"` // remote-inbound-rtp entries: the far end's receiver reports
	} `json:"stats"`
}

func (p *pageTab) media() mediaState {
	return pageEval[mediaState](p, `window.flashvoxMedia.state() || {}`)
}

// hears waits until the page hears hz in mode, and returns when.
func (p *pageTab) hears(hz float64, mode string, within time.Duration) mediaState {
	p.t.Helper()
	var st mediaState
	testwait.For(p.t, within, fmt.Sprintf("%s to hear %.0f Hz in %s mode", p.user, hz, mode), func() bool {
		st = p.media()
		return st.Mode == mode && math.Abs(st.HeardHz-hz) < 15
	})
	return st
}

// text is an element's text.
func text(t *testing.T, p *pageTab, id string) string {
	t.Helper()
	return pageEval[string](p, `document.getElementById('`+id+`').textContent`)
}

// calls is GET /api/v1/calls as the page's user.
func (p *pageTab) calls() []call.State {
	var out struct{ Calls []call.State }
	out = pageEval[struct{ Calls []call.State }](p, `fetch('/api/v1/calls', {headers: {Authorization: 'Bearer ' + flashvoxPage.state().token}}).then(r => r.json()).then(j => ({Calls: j.calls}))`)
	return out.Calls
}

// callFromPage: alice's page calls bob's with the contact's button; bob's
// page rings (WebAudio ring tone) and answers with its button.
func callFromPage(t *testing.T, alice, bob *pageTab) {
	t.Helper()
	bob.do("see alice online", 5*time.Second, chromedp.WaitVisible(chromedp.CSS(`#contacts li[data-user="alice"][data-status="online"]`)))
	alice.do("call bob", 5*time.Second,
		chromedp.WaitVisible(chromedp.CSS(`#contacts li[data-user="bob"][data-status="online"] button`)),
		chromedp.Click(chromedp.CSS(`#contacts li[data-user="bob"] button`)))
	bob.do("incoming call", 5*time.Second, chromedp.WaitVisible(chromedp.CSS(`#answer`)))
	if !pageEval[bool](bob, `flashvoxMedia.ringing()`) {
		t.Fatal("bob's page does not ring")
	}
	bob.do("answer", 5*time.Second, chromedp.Click(chromedp.CSS(`#answer`)), chromedp.WaitVisible(chromedp.CSS(`#media`)))
	if pageEval[bool](bob, `flashvoxMedia.ringing()`) {
		t.Fatal("bob's page still rings after the answer")
	}
}

// TestPeerPageCallP2P: alice's and bob's pages (each in its own Chromium
// with its own tone: 440 and 660 Hz) call through the page's buttons;
// bob's microphone opens 1.5 s late, as when a person clicks "Allow", so
// alice's offer arrives before his page is ready for it. The direct
// connection comes up: mode p2p in the pages and in GET /api/v1/calls, no
// WHIP/WHEP session on the server, and each page hears the other's tone.
// Hanging up ends the media; the bye records p2p.
func TestPeerPageCallP2P(t *testing.T) {
	testpeer.SkipShort(t, "chromium")
	a := startPageAppYAML(t, "data_dir: "+t.TempDir()+"\n") // a store: the call's record

	alice := signIn(t, pageBrowser(t, 440), a.http, "alice")
	bob := signIn(t, pageBrowser(t, 660), a.http, "bob")
	pageEval[bool](bob, `{ const md = navigator.mediaDevices, gum = md.getUserMedia.bind(md);
		md.getUserMedia = (c) => new Promise((r) => setTimeout(r, 1500)).then(() => gum(c)); true }`)
	start := time.Now()
	callFromPage(t, alice, bob)
	sa := alice.hears(660, "p2p", 15*time.Second)
	sb := bob.hears(440, "p2p", 15*time.Second)
	t.Logf("p2p: both tones heard %.1f s after the call button; alice %+v; bob %+v", time.Since(start).Seconds(), sa, sb)
	if cs := alice.calls(); len(cs) != 1 || cs[0].Mode != call.ModeP2P || cs[0].FellBack {
		t.Fatalf("GET /api/v1/calls: %+v", cs)
	}
	if n := a.srv.rtc.Sessions(); n != 0 {
		t.Fatalf("%d WHIP/WHEP sessions in a direct call", n)
	}
	wantTransports(t, a.srv, call.TransportWebRTC, call.TransportWebRTC)
	var q mediaState
	testwait.For(t, 5*time.Second, "quality figures", func() bool { q = alice.media(); return q.Stats.Received > 0 })
	t.Logf("alice's quality: %+v, shown as %q", q.Stats, text(t, alice, "call-quality"))
	if q := text(t, alice, "call-quality"); !strings.HasPrefix(q, "loss 0.0 % · jitter ") {
		t.Fatalf("the page shows the quality as %q", q)
	}
	var lvl float64
	testwait.For(t, 5*time.Second, "the mic level meter to show alice's tone", func() bool {
		lvl = pageEval[float64](alice, `document.getElementById('mic-level').value`)
		return lvl >= 0.3
	})
	t.Logf("alice's mic meter: %.2f (%.0f dBFS)", lvl, lvl*60-60)
	callShot(t, alice)
	alice.do("mute", 3*time.Second, chromedp.Click(chromedp.CSS(`#mute`)))
	testwait.For(t, 5*time.Second, "bob to hear silence while alice is muted", func() bool { return bob.media().HeardHz == 0 })
	alice.do("unmute", 3*time.Second, chromedp.Click(chromedp.CSS(`#mute`)))
	bob.hears(440, "p2p", 5*time.Second)
	alice.do("DTMF 5", 3*time.Second, chromedp.Click(chromedp.CSS(`#dtmf button:nth-child(5)`)))
	testwait.For(t, 5*time.Second, "bob to be told alice's digit", func() bool { return text(t, bob, "notice") == "alice sent 5" })
	alice.do("hang up", 5*time.Second, chromedp.Click(chromedp.CSS(`#hangup`)),
		chromedp.Query(chromedp.CSS(`#call[hidden]`), chromedp.NodeReady))
	bob.do("call ended", 5*time.Second, chromedp.Query(chromedp.CSS(`#call[hidden]`), chromedp.NodeReady))
	if st := pageEval[bool](bob, `flashvoxMedia.state() === null`); !st {
		t.Fatal("bob's media still runs after the bye")
	}
	if bye := lastEvent(a.srv, "bob", call.EvBye); bye.Mode != call.ModeP2P {
		t.Fatalf("bye %+v", bye)
	}
	// The record: both parties webrtc, the codec their SDP answer chose
	// (the server passed it), no bytes (the media never passed it).
	var cs []store.CDR
	testwait.For(t, 5*time.Second, "the call's record", func() bool {
		var err error
		cs, err = a.srv.store.CDRs(context.Background(), store.CDRFilter{})
		return err == nil && len(cs) == 1
	})
	r := cs[0]
	t.Logf("record: %s %s → %s %s, codecs %q %q, mode %s", r.Caller, r.CallerTransport, r.Callee, r.CalleeTransport, r.CallerCodec, r.CalleeCodec, r.Mode)
	if r.CallerTransport != call.TransportWebRTC || r.CalleeTransport != call.TransportWebRTC || r.Mode != call.ModeP2P ||
		r.CallerCodec != "opus" || r.CalleeCodec != "opus" || r.CallerBytes != nil || r.CalleeBytes != nil {
		t.Fatalf("record %+v", r)
	}
}

// TestPeerPageCallRelayFallback: the same call with alice's direct path
// blocked (her page allows only TURN relay candidates and has no TURN
// server, so no direct pair can form): after the p2p timeout (4 s) both
// pages publish and play through the server (WHIP/WHEP, four sessions),
// the call says relay and fellBack, and each page hears the other's tone.
func TestPeerPageCallRelayFallback(t *testing.T) {
	testpeer.SkipShort(t, "chromium")
	a := startPageAppYAML(t, "data_dir: "+t.TempDir()+"\n") // a store: the records
	alice := signIn(t, pageBrowser(t, 440), a.http, "alice")
	bob := signIn(t, pageBrowser(t, 660), a.http, "bob")
	pageEval[bool](alice, `flashvoxMedia.opts.icePolicy = 'relay'; true`)
	start := time.Now()
	callFromPage(t, alice, bob)
	testwait.For(t, 10*time.Second, "the fallback to relay", func() bool {
		cs := alice.calls()
		return len(cs) == 1 && cs[0].Mode == call.ModeRelay && cs[0].FellBack
	})
	fell := time.Now()
	alice.hears(660, "relay", 5*time.Second)
	bob.hears(440, "relay", 5*time.Second)
	t.Logf("relay: fallback %.1f s after the call button, both tones %.1f s after the fallback",
		fell.Sub(start).Seconds(), time.Since(fell).Seconds())
	if n := a.srv.rtc.Sessions(); n != 4 {
		t.Fatalf("%d WHIP/WHEP sessions, want 4 (each page publishes and plays)", n)
	}
	// The server's RTCP receiver reports on alice's WHIP session reach
	// Chromium (remote-inbound-rtp), and the page shows her audio's loss.
	var q mediaState
	testwait.For(t, 10*time.Second, "the server's receiver reports in alice's page", func() bool {
		q = alice.media()
		return q.Stats.Reports > 0 && q.Stats.Sent > 0 && strings.Contains(text(t, alice, "call-quality"), " · sent lost ")
	})
	t.Logf("alice's quality: %+v, shown as %q", q.Stats, text(t, alice, "call-quality"))
	if q.Stats.SentLost != 0 {
		t.Fatalf("the server reports %v of alice's packets lost on loopback", q.Stats.SentLost)
	}
	wantTransports(t, a.srv, call.TransportWebRTC, call.TransportWebRTC)
	if m := a.metrics(t); m["flashvox_calls_p2p_total"] != 1 || m["flashvox_calls_p2p_fallbacks_total"] != 1 {
		t.Fatalf("metrics: p2p %v, fallbacks %v", m["flashvox_calls_p2p_total"], m["flashvox_calls_p2p_fallbacks_total"])
	}
	alice.do("hang up", 5*time.Second, chromedp.Click(chromedp.CSS(`#hangup`)))
	testwait.For(t, 10*time.Second, "the WHIP/WHEP sessions to end", func() bool { return a.srv.rtc.Sessions() == 0 })
	m := a.metrics(t)
	t.Logf("lite engine: received %v (lost %v), sent %v (lost %v), %v RTCP reports", m["flashvox_webrtc_lite_packets_received_total"],
		m["flashvox_webrtc_lite_packets_lost_in_total"], m["flashvox_webrtc_lite_packets_sent_total"], m["flashvox_webrtc_lite_packets_lost_out_total"],
		m["flashvox_webrtc_lite_rtcp_reports_sent_total"])
	if m["flashvox_webrtc_lite_packets_received_total"] == 0 || m["flashvox_webrtc_lite_packets_sent_total"] == 0 || m["flashvox_webrtc_lite_rtcp_reports_sent_total"] == 0 {
		t.Fatal("the lite sessions' media and reports are not in the metrics")
	}
	if bye := lastEvent(a.srv, "alice", call.EvBye); bye.Mode != call.ModeRelay {
		t.Fatalf("bye %+v", bye)
	}
	// The four sessions' records name the call and carry their figures
	// (the WHIP sessions' loss and jitter as the server measured the
	// pages' audio); the call's record takes the worst of them.
	var rs []store.WebRTCSession
	var cs []store.CDR
	testwait.For(t, 5*time.Second, "the call's and its sessions' records", func() bool {
		rs, _ = a.srv.store.WebRTCSessions(context.Background(), store.CDRFilter{})
		cs, _ = a.srv.store.CDRs(context.Background(), store.CDRFilter{})
		return len(rs) == 4 && len(cs) == 1
	})
	whip := 0
	for _, r := range rs {
		t.Logf("session %s %s %s: packets in %s out %s, loss in %s out %s, jitter %s ms, rtt %s ms", r.Direction, r.Stream, r.Engine,
			store.FormatInt(r.PacketsIn), store.FormatInt(r.PacketsOut), store.FormatFloat(r.LossInPct), store.FormatFloat(r.LossOutPct),
			store.FormatFloat(r.JitterMS), store.FormatFloat(r.RTTMS))
		if r.CallID != cs[0].ID || r.PacketsIn == nil || r.PacketsOut == nil {
			t.Errorf("session record %+v (call %s)", r, cs[0].ID)
		}
		if r.Direction == "whip" { // (a WHEP session's figures need the page's reports: a second or more)
			whip++
			if *r.PacketsIn == 0 || r.LossInPct == nil || r.JitterMS == nil {
				t.Errorf("a WHIP session's record without the page's packets: %+v", r)
			}
		}
	}
	if whip != 2 || cs[0].LossPct == nil || cs[0].JitterMS == nil {
		t.Errorf("%d WHIP sessions; the call's loss %s, jitter %s", whip, store.FormatFloat(cs[0].LossPct), store.FormatFloat(cs[0].JitterMS))
	}
}

// wantTransports checks the transports of the one running call as the
// dashboard lists them and its record will name them (call.CallInfo).
func wantTransports(t *testing.T, srv *services, from, to string) {
	t.Helper()
	cs := srv.calls.Calls()
	if len(cs) != 1 || cs[0].FromKind != from || cs[0].ToKind != to {
		t.Fatalf("calls %+v: want transports %s → %s", cs, from, to)
	}
}

// lastEvent is user's last logged event of typ.
func lastEvent(srv *services, user, typ string) call.Event {
	var out call.Event
	for _, e := range callEvents(srv, user) {
		if e.Type == typ {
			out = e
		}
	}
	return out
}

// TestPeerPageCallSoftphone: bob's headless phone (flashvox client) calls
// alice's page with a 660 Hz tone, over RTMP in Nellymoser and over RTMFP
// in Speex; alice answers on the page. The call relays (a phone and a
// page): the page publishes and plays over WHIP/WHEP (Opus ⇄ Nellymoser or
// Speex through the transcoder), hears 660 Hz, and the phone hears
// alice's 440 Hz.
func TestPeerPageCallSoftphone(t *testing.T) {
	testpeer.SkipShort(t, "chromium")
	a := startPageApp(t)
	alice := signIn(t, pageBrowser(t, 440), a.http, "alice")
	for _, c := range []struct {
		name, server, kind string
		codec              codec.ID
	}{{"rtmp-nellymoser", a.rtmp, call.KindRTMP, codec.Nellymoser}, {"rtmfp-speex", a.rtmfp, call.KindRTMFP, codec.Speex}} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			type result struct {
				r   *softphone.Result
				err error
			}
			done := make(chan result, 1)
			go func() {
				r, err := softphone.Call(ctx, softphone.Options{Server: c.server, User: "bob", Secret: "bob", Codec: c.codec,
					Mic: audiotest.Sine(softphone.SampleRate, softphone.SampleRate*2, 660, 0.3), Duration: 8 * time.Second,
					SetupTimeout: 20 * time.Second}, "alice")
				done <- result{r, err}
			}()
			alice.do("incoming call", 10*time.Second, chromedp.WaitVisible(chromedp.CSS(`#answer`)))
			alice.do("answer", 5*time.Second, chromedp.Click(chromedp.CSS(`#answer`)), chromedp.WaitVisible(chromedp.CSS(`#media`)))
			st := alice.hears(660, "relay", 10*time.Second)
			t.Logf("the page hears %.0f Hz from the phone", st.HeardHz)
			wantTransports(t, a.srv, c.kind, call.TransportWebRTC)
			res := <-done
			if res.err != nil {
				t.Fatalf("bob's phone: %v", res.err)
			}
			heard := res.r.Heard
			if len(heard) < softphone.SampleRate {
				t.Fatalf("the phone heard %d samples", len(heard))
			}
			tail := heard[len(heard)/2:]
			hz := audiotest.DominantHz(tail, softphone.SampleRate)
			t.Logf("the phone hears %.0f Hz at %.1f dB from the page", hz, audiotest.RMSDB(tail))
			if math.Abs(hz-440) > 20 {
				t.Fatalf("the phone hears %.0f Hz, want 440", hz)
			}
			alice.do("call ended", 10*time.Second, chromedp.Query(chromedp.CSS(`#call[hidden]`), chromedp.NodeReady))
		})
	}
}

// callShot saves a PNG of the page in a call to FLASHVOX_SCREENSHOT_CALL,
// if set (make screenshots: docs/page-call.png).
func callShot(t *testing.T, p *pageTab) {
	t.Helper()
	pageShot(t, p, "FLASHVOX_SCREENSHOT_CALL")
}

// pageShot saves a PNG of the page to the file the environment variable
// env names, if set.
func pageShot(t *testing.T, p *pageTab, env string) {
	t.Helper()
	path := os.Getenv(env)
	if path == "" {
		return
	}
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil || len(png) < 1000 || string(png[1:4]) != "PNG" {
		t.Fatalf("screenshot: %d bytes, %v", len(png), err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
}
