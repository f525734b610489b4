//go:build cgo

package app

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/softphone"
)

// pageConfYAML: a mixed room moderated by alice, reached by SIP callers
// of 5551000; the built-in STUN server on.
const pageConfYAML = `webrtc:
  stun_listen: 127.0.0.1:0
conference:
  rooms:
    - {name: talk, mode: mixed, moderators: [alice]}
sip:
  inbound:
    - {number: "5551000", target: "conf:talk"}
`

// confState is window.flashvoxConf.state().
type confState struct {
	Room      string `json:"room"`
	Member    string `json:"member"`
	Mode      string `json:"mode"`
	Moderator bool   `json:"moderator"`
	Speaker   string `json:"speaker"`
	Plays     int    `json:"plays"`
	Members   []struct {
		ID    string `json:"id"`
		User  string `json:"user"`
		Kind  string `json:"kind"`
		Muted bool   `json:"muted"`
	} `json:"members"`
}

func (p *pageTab) conf() confState {
	return pageEval[confState](p, `window.flashvoxConf.state() || {}`)
}

// plainMic turns off the page's microphone processing (noise suppression,
// gain control) for its next getUserMedia: Chromium's suppressor takes a
// steady test tone for noise and may fade it out within seconds, which
// would make a test of who hears whom flaky. Call it after signIn.
func plainMic(p *pageTab) {
	p.t.Helper()
	pageEval[bool](p, `{ const md = navigator.mediaDevices, gum = md.getUserMedia.bind(md);
		md.getUserMedia = (c) => gum({ audio: Object.assign({}, c.audio, { noiseSuppression: false, autoGainControl: false }) }); true }`)
}

// levelAt is the page's level (dB, the AnalyserNode's) at hz of the room.
func (p *pageTab) levelAt(hz float64) float64 {
	return pageEval[float64](p, fmt.Sprintf(`flashvoxConf.levelAt(%g)`, hz))
}

// TestPeerPageConference: alice's page (440 Hz) joins the mixed room
// "talk" with its form; bob's headless phone (flashvox client, RTMP,
// Nellymoser, 660 Hz) and a baresip (SIP, PCMU, 880 Hz) dialling the
// room's number join it. The page publishes with WHIP and plays its mix
// in Opus with WHEP; it hears bob and baresip and not itself, shows the
// three members and a speaker; baresip hears alice and bob, bob hears
// alice and baresip, nobody itself. Then alice, the room's moderator,
// mutes bob with his member's button (his tone leaves her mix) and kicks
// him (his phone is put out: conf_left kicked).
func TestPeerPageConference(t *testing.T) {
	testpeer.SkipShort(t, "chromium")
	const aliceHz, bobHz, sipHz = 440, 660, 880
	a := startPageAppYAML(t, pageConfYAML)
	alice := signIn(t, pageBrowser(t, aliceHz), a.http, "alice")
	plainMic(alice)
	alice.do("join talk", 10*time.Second,
		chromedp.SendKeys(chromedp.CSS(`#conf-room`), "talk"),
		chromedp.Click(chromedp.CSS(`#conf-join-button`)),
		chromedp.WaitVisible(chromedp.CSS(`#conf`)))
	testwait.For(t, 10*time.Second, "the page to publish and play (2 WebRTC sessions)", func() bool { return a.srv.rtc.Sessions() == 2 })
	if c := alice.conf(); c.Mode != "mixed" || !c.Moderator || c.Plays != 1 {
		t.Fatalf("the page's room: %+v", c)
	}
	checkPageSTUN(t, a, alice)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	type result struct {
		r   *softphone.Result
		err error
	}
	bobDone := make(chan result, 1)
	go func() {
		r, err := softphone.Call(ctx, softphone.Options{Server: a.rtmp, User: "bob", Secret: "bob", Codec: codec.Nellymoser,
			Mic: audiotest.Sine(softphone.SampleRate, softphone.SampleRate*2, bobHz, 0.2), SetupTimeout: 20 * time.Second}, "conf:talk")
		bobDone <- result{r, err}
	}()
	wav := filepath.Join(t.TempDir(), "sip.wav")
	if err := audiotest.WriteWAV(wav, audiotest.Sine(8000, 8000*40, sipHz, 0.2), 8000); err != nil {
		t.Fatal(err)
	}
	sipAddr := a.srv.sip.Addr()
	b := testpeer.StartBaresip(t, 60*time.Second, testpeer.BaresipOptions{
		Account:   "<sip:carol@" + sipAddr + ">;regint=0;audio_codecs=PCMU",
		SourceWAV: wav, Exec: "/dial sip:5551000@" + sipAddr, Seconds: 40,
	})
	testwait.For(t, 20*time.Second, "the page to list alice, bob and baresip", func() bool {
		return len(alice.conf().Members) == 3 && pageEval[int](alice, `document.querySelectorAll('#conf-members li').length`) == 3
	})
	var lv [3]float64
	testwait.For(t, 15*time.Second, "the page to hear bob and baresip", func() bool {
		lv = [3]float64{alice.levelAt(aliceHz), alice.levelAt(bobHz), alice.levelAt(sipHz)}
		return lv[1] > -60 && lv[2] > -60 && lv[0] < min(lv[1], lv[2])-25
	})
	t.Logf("the page hears (AnalyserNode dB): own %.0f Hz %.1f, bob %.0f Hz %.1f, baresip %.0f Hz %.1f", float64(aliceHz), lv[0],
		float64(bobHz), lv[1], float64(sipHz), lv[2])
	testwait.For(t, 10*time.Second, "a speaking indicator", func() bool {
		return pageEval[int](alice, `document.querySelectorAll('#conf-members li[data-speaking="true"]').length`) == 1
	})
	pageShot(t, alice, "FLASHVOX_SCREENSHOT_CONF") // make screenshots: docs/page-conference.png
	if m := a.metrics(t); m["flashvox_webrtc_passthrough_frames_total"] == 0 {
		t.Errorf("the page's Opus mix was not passed through: %v passed, %v transcoded",
			m["flashvox_webrtc_passthrough_frames_total"], m["flashvox_webrtc_transcoded_frames_total"])
	}
	b.WaitHeard(t, 3500*time.Millisecond, 20*time.Second)

	b.Stop() // ends its call and closes its recording
	heard := b.Heard()
	if heard == "" {
		t.Fatalf("baresip recorded nothing\n%s", b.Output())
	}
	pcm, rate, err := audiotest.ReadWAV(heard)
	if err != nil {
		t.Fatal(err)
	}
	if len(pcm) < 3*rate {
		t.Fatalf("baresip recorded %.1f s", float64(len(pcm))/float64(rate))
	}
	audiotest.HearsOthers(t, "baresip", pcm[len(pcm)-3*rate:len(pcm)-rate/5], rate, sipHz, aliceHz, bobHz)

	// Moderation from the page: mute bob, then kick him.
	testwait.For(t, 10*time.Second, "baresip to leave the page's list", func() bool { return len(alice.conf().Members) == 2 })
	alice.do("mute bob", 5*time.Second, chromedp.Click(chromedp.CSS(`#conf-members li[data-user="bob"] button.mute`)),
		chromedp.WaitVisible(chromedp.CSS(`#conf-members li[data-user="bob"][data-muted="true"]`)))
	testwait.For(t, 5*time.Second, "bob's tone to leave the page's mix", func() bool { return alice.levelAt(bobHz) < lv[1]-30 })
	alice.do("kick bob", 5*time.Second, chromedp.Click(chromedp.CSS(`#conf-members li[data-user="bob"] button.kick`)))
	var res result
	select {
	case res = <-bobDone:
	case <-time.After(10 * time.Second):
		t.Fatal("bob's phone still in the room 10 s after the kick")
	}
	if res.r == nil || res.r.End == nil || res.r.End.GetString("reason") != "kicked" {
		t.Fatalf("bob's phone: %+v, %v", res.r, res.err)
	}
	h := res.r.Heard
	if len(h) < 2*softphone.SampleRate {
		t.Fatalf("bob heard %d samples", len(h))
	}
	audiotest.HearsOthers(t, "bob", h[len(h)/3:], softphone.SampleRate, bobHz, aliceHz, sipHz)
	testwait.For(t, 5*time.Second, "the page's list without bob", func() bool { return len(alice.conf().Members) == 1 })
	alice.do("leave", 5*time.Second, chromedp.Click(chromedp.CSS(`#conf-leave`)), chromedp.WaitVisible(chromedp.CSS(`#conf-join`)))
	testwait.For(t, 10*time.Second, "the page's WebRTC sessions to end", func() bool { return a.srv.rtc.Sessions() == 0 })
}

// checkPageSTUN: the page's RTCPeerConnections are configured with the
// edge's built-in STUN server (from /page.json), and the page asked it
// for its server-reflexive address. Without NAT that address is the host
// candidate's, which Chromium does not repeat as srflx, so the answers
// are what can be asserted here.
func checkPageSTUN(t *testing.T, a *pageApp, p *pageTab) {
	t.Helper()
	want := a.srv.rtc.ICEServers()
	got := pageEval[[]string](p, `flashvoxMedia.opts.iceServers.map((s) => s.urls)`)
	if len(want) != 1 || !strings.HasPrefix(want[0], "stun:127.0.0.1:") || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("the page's ICE servers %q, the edge's %q", got, want)
	}
	testwait.For(t, 10*time.Second, "the page to ask the built-in STUN server", func() bool {
		return a.metrics(t)["flashvox_webrtc_stun_answered_total"] > 0
	})
	t.Logf("the page's ICE servers: %q; STUN answers: %v", got, a.metrics(t)["flashvox_webrtc_stun_answered_total"])
}

// TestPeerPageConferenceRelay: alice's page (440 Hz) in a relay room with
// two headless RTMP phones, bob (Nellymoser, 660 Hz) and carol (Speex,
// 880 Hz): the page plays each one's stream with its own WHEP session
// (three sessions with its WHIP) and hears both, not itself; bob hears
// alice and carol. When carol leaves, the page drops her session.
func TestPeerPageConferenceRelay(t *testing.T) {
	testpeer.SkipShort(t, "chromium")
	const aliceHz, bobHz, carolHz = 440, 660, 880
	a := startPageAppYAML(t, `conference:
  rooms:
    - {name: rel, mode: relay, moderators: [alice]}
`)
	alice := signIn(t, pageBrowser(t, aliceHz), a.http, "alice")
	plainMic(alice)
	alice.do("join rel", 10*time.Second,
		chromedp.SendKeys(chromedp.CSS(`#conf-room`), "rel"),
		chromedp.Click(chromedp.CSS(`#conf-join-button`)),
		chromedp.WaitVisible(chromedp.CSS(`#conf`)))
	testwait.For(t, 10*time.Second, "the page to publish", func() bool { return a.srv.rtc.Sessions() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	type result struct {
		r   *softphone.Result
		err error
	}
	phone := func(user string, c codec.ID, hz float64, d time.Duration) chan result {
		done := make(chan result, 1)
		go func() {
			r, err := softphone.Call(ctx, softphone.Options{Server: a.rtmp, User: user, Secret: user, Codec: c, Duration: d,
				Mic: audiotest.Sine(softphone.SampleRate, softphone.SampleRate*2, hz, 0.2), SetupTimeout: 20 * time.Second}, "conf:rel")
			done <- result{r, err}
		}()
		return done
	}
	bobDone := phone("bob", codec.Nellymoser, bobHz, 12*time.Second)
	carolDone := phone("carol", codec.Speex, carolHz, 6*time.Second)
	testwait.For(t, 20*time.Second, "the page to play bob and carol (3 WebRTC sessions)", func() bool {
		c := alice.conf()
		return c.Mode == "relay" && len(c.Members) == 3 && c.Plays == 2 && a.srv.rtc.Sessions() == 3
	})
	var lv [3]float64
	// Lower than in the mixed room (about −45…−57 dB): two streams, each
	// transcoded to Opus by the edge, summed in the page's analyser.
	testwait.For(t, 15*time.Second, "the page to hear bob and carol", func() bool {
		lv = [3]float64{alice.levelAt(aliceHz), alice.levelAt(bobHz), alice.levelAt(carolHz)}
		return lv[1] > -70 && lv[2] > -70 && lv[0] < min(lv[1], lv[2])-20
	})
	t.Logf("the page hears (AnalyserNode dB): own %.0f Hz %.1f, bob %.0f Hz %.1f, carol %.0f Hz %.1f", float64(aliceHz), lv[0],
		float64(bobHz), lv[1], float64(carolHz), lv[2])
	res := <-carolDone
	if res.err != nil {
		t.Fatalf("carol's phone: %v", res.err)
	}
	testwait.For(t, 10*time.Second, "the page to drop carol's stream", func() bool {
		c := alice.conf()
		return len(c.Members) == 2 && c.Plays == 1 && a.srv.rtc.Sessions() == 2
	})
	res = <-bobDone
	if res.err != nil {
		t.Fatalf("bob's phone: %v", res.err)
	}
	h := res.r.Heard
	if len(h) < 4*softphone.SampleRate {
		t.Fatalf("bob heard %d samples", len(h))
	}
	// The first seconds: carol (who left at 6 s) and alice both talk.
	audiotest.HearsOthers(t, "bob", h[softphone.SampleRate:4*softphone.SampleRate], softphone.SampleRate, bobHz, aliceHz, carolHz)
}
