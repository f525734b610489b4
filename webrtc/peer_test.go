//go:build cgo

package webrtc_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/webrtc"
)

// eval evaluates js in the page (awaiting a promise), failing the test on
// a DevTools or JavaScript error.
func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	v, err := chromedp.Run(c, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// openPage loads the test page and calls fn(url) in it, waiting until the
// offer was answered.
func openPage(t *testing.T, ctx context.Context, e *edge, fn, path string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(e.url+"/")); err != nil {
		t.Fatalf("open page: %v", err)
	}
	eval[bool](t, ctx, fmt.Sprintf("%s(%q); true", fn, e.url+path))
	var state string
	testwait.For(t, 10*time.Second, fn+" answered", func() bool {
		state = eval[string](t, ctx, "window.state")
		return state != "idle"
	})
	if state != "posted" {
		t.Fatalf("%s: %s", fn, state)
	}
}

// TestPeerWHEP: ffmpeg publishes a 440 Hz tone over RTMP in Nellymoser,
// then in Speex; Chromium plays it with WHEP (transcoded to Opus) and
// hears 440 Hz; DELETE on the session URL ends the session.
func TestPeerWHEP(t *testing.T) {
	testpeer.SkipShort(t, "chromium")
	testpeer.Require(t, "chromium")
	e := startEdge(t, nil, webrtc.Options{})
	ctx := testpeer.Chromium(t, nil)
	for _, c := range []struct{ name, codec string }{{"nelly", "nellymoser"}, {"speex", "libspeex"}} {
		t.Run(c.name, func(t *testing.T) {
			pub := testpeer.Start(t, 60*time.Second, "ffmpeg", "-hide_banner", "-loglevel", "error", "-re",
				"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000", "-t", "40",
				"-c:a", c.codec, "-ar", "16000", "-ac", "1", "-f", "flv", e.st.URL("live")+"/"+c.name)
			defer pub.Stop()
			testwait.For(t, 10*time.Second, "the RTMP publisher", func() bool { return e.st.Hub.Published("live/" + c.name) })
			start := time.Now()
			openPage(t, ctx, e, "whep", "/live/"+c.name+"/whep")
			var hz float64
			testwait.For(t, 10*time.Second, "Chromium to hear 440 Hz", func() bool {
				hz = eval[float64](t, ctx, "dominant()")
				return math.Abs(hz-440) < 15
			})
			t.Logf("%s: Chromium hears %.0f Hz %.1f s after opening the page", c.codec, hz, time.Since(start).Seconds())
			if n := e.srv.Sessions(); n != 1 {
				t.Fatalf("%d sessions, want 1", n)
			}
			status := eval[int](t, ctx, `fetch(window.location_, {method: 'DELETE'}).then(r => r.status)`)
			if status != 200 {
				t.Fatalf("DELETE: %d", status)
			}
			testwait.For(t, 5*time.Second, "the session to end", func() bool { return e.srv.Sessions() == 0 })
		})
	}
}

// TestPeerWHIP: Chromium publishes a 660 Hz fake microphone with WHIP;
// ffmpeg RTMP players of the name, plain (Speex) and with
// ?codec=nellymoser, hear 660 Hz.
func TestPeerWHIP(t *testing.T) {
	testpeer.SkipShort(t, "chromium")
	testpeer.Require(t, "chromium")
	e := startEdge(t, nil, webrtc.Options{})
	dir := t.TempDir()
	tone := filepath.Join(dir, "tone.wav")
	if err := audiotest.WriteWAV(tone, audiotest.Sine(48000, 48000*5, 660, 0.3), 48000); err != nil {
		t.Fatal(err)
	}
	ctx := testpeer.Chromium(t, map[string]any{"use-fake-device-for-media-stream": true, "use-file-for-fake-audio-capture": tone})
	openPage(t, ctx, e, "whip", "/live/y/whip")
	testwait.For(t, 10*time.Second, "the WHIP publication", func() bool { return e.st.Hub.Published("live/y") })

	// A plain play gets the Opus stream as Speex (session/fallback.go);
	// ?codec= chooses another codec.
	for i, playpath := range []string{"y", "y?codec=nellymoser"} {
		out := filepath.Join(dir, fmt.Sprintf("out%d.wav", i))
		if msg, err := testpeer.Run(t, 30*time.Second, "ffmpeg", "-hide_banner", "-loglevel", "error",
			"-rtmp_app", "live", "-rtmp_playpath", playpath, "-rtmp_live", "live",
			"-i", "rtmp://"+e.st.Addr, "-t", "3", "-ac", "1", "-ar", "16000", "-y", out); err != nil {
			t.Fatalf("ffmpeg player of %s: %v\n%s", playpath, err, msg)
		}
		pcm, rate, err := audiotest.ReadWAV(out)
		if err != nil {
			t.Fatal(err)
		}
		if len(pcm) < rate {
			t.Fatalf("the player of %s got %d samples", playpath, len(pcm))
		}
		hz := audiotest.DominantHz(pcm[len(pcm)/3:], rate)
		t.Logf("ffmpeg playing %s hears %.0f Hz at %.1f dB from Chromium's WHIP", playpath, hz, audiotest.RMSDB(pcm))
		if math.Abs(hz-660) > 20 {
			t.Fatalf("%s: dominant %.0f Hz, want 660", playpath, hz)
		}
	}
}
