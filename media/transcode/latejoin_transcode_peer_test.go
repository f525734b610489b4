package transcode_test

import (
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/teststack"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/session"
)

// TestPeerTranscodeLateJoinSpeexToNellymoser: ffmpeg publishes libspeex
// 16 kHz (as Flash and `ffmpeg -c:a libspeex -ar 16000` do); about 2 s
// later rtmpdump plays it with `NAME?codec=nellymoser`, which starts the
// transcoder mid-stream. ffmpeg's decode of what rtmpdump recorded must
// have the source's level (±1 dB), a tone without spurious components
// (≤ −30 dB; a user measured a −9 dBFS tone at −3 dBFS with 806/719 Hz
// components 12 dB down), and match ffmpeg's own libspeex decode of the
// whole stream (what a player from the start hears) within Nellymoser's
// loss.
func TestPeerTranscodeLateJoinSpeexToNellymoser(t *testing.T) {
	testpeer.SkipShort(t, "real peers (ffmpeg, rtmpdump); runs in real time")
	const n = 16000 * 6
	amp := math.Pow(10, -9.0/20)
	call := audiotest.Sine(16000, n, 1000, amp)
	floor := audiotest.Noise(16000, n, amp/math.Sqrt2*math.Pow(10, -50.0/20), 7) // a microphone's floor
	for i := range call {
		call[i] += floor[i]
	}
	for _, c := range []struct {
		name   string
		pcm    []int16
		tone   float64 // 0: not a tone
		minSNR float64 // vs ffmpeg's from-the-start libspeex decode
	}{
		{"tone-in-a-call", call, 1000, 15},
		{"voice", audiotest.Voice(16000, n, 140, amp), 0, 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			src := audiotest.SpeexFLV(t, dir, c.pcm)
			testpeer.Require(t, "rtmpdump")

			st := teststack.Start(t, teststack.Options{Transcode: map[string]session.TranscodePolicy{"live": session.TranscodeOpen}})
			url := st.URL("live") + "/late"
			pub := testpeer.Start(t, 60*time.Second, "ffmpeg", "-hide_banner", "-loglevel", "error",
				"-re", "-i", src, "-c", "copy", "-f", "flv", url)
			testwait.For(t, 20*time.Second, "2 s of published audio", func() bool { return st.Hub.Stats.FramesIn.Load() >= 100 })
			if n := st.Transcoder.Stats.Transcoders.Load(); n != 0 {
				t.Fatalf("%d transcoders before the player joined, want 0", n)
			}
			late := filepath.Join(dir, "late.flv")
			pl := testpeer.Start(t, 60*time.Second, "rtmpdump", "-q", "-r", url+"?codec=nellymoser", "--live", "-o", late)
			for _, p := range []*testpeer.Proc{pub, pl} {
				select {
				case <-p.Done():
				case <-time.After(30 * time.Second):
					t.Fatalf("%s did not end after the stream ended:\n%s", p.Name, p.Output())
				}
			}

			tags, err := testpeer.ReadFLV(late)
			if err != nil {
				t.Fatal(err)
			}
			payloads := testpeer.AudioPayloads(tags)
			if len(payloads) < 150 {
				t.Fatalf("late player recorded %d audio tags, want ≥ 150 (2.4 s)", len(payloads))
			}
			for i, p := range payloads {
				if len(p) != 65 || p[0] != 0x42 {
					t.Fatalf("tag %d: %d bytes starting %#x, want 0x42 and one 64-byte Nellymoser block", i, len(p), p[0])
				}
			}
			joinMs := firstAudioTimestamp(tags)
			if joinMs < 1000 {
				t.Fatalf("late player's first tag at %d ms: want ≥ 1 s into the stream", joinMs)
			}
			got := audiotest.FromS16LE(audiotest.RunFFmpeg(t, "-i", late, "-f", "s16le", "-ac", "1", "-ar", "16000", "-"))
			ref := audiotest.FromS16LE(audiotest.RunFFmpeg(t, "-c:a", "libspeex", "-i", src, "-f", "s16le", "-"))
			off := int(joinMs) * 16
			// From 0.5 s after the join to 0.25 s before the end of either.
			a, b := 8000, min(len(got), len(ref)-off, len(c.pcm)-off)-4000
			if b-a < 16000 {
				t.Fatalf("only %d samples after the join to judge", b-a)
			}
			lvlSrc, lvlGot := audiotest.RMSDB(c.pcm[off+a:off+b]), audiotest.RMSDB(got[a:b])
			// got lags ref by Nellymoser's 128 samples give or take the
			// timestamp's rounding: search ±600 samples.
			snr, lag := audiotest.AlignedSNR(ref[off+a:off+b], got[a-600:b], 1200)
			t.Logf("joined at %d ms, %d tags: source %.1f dBFS, late player %.1f dBFS; vs a from-the-start decode %.1f dB (delay %d samples)",
				joinMs, len(payloads), lvlSrc, lvlGot, snr, lag-600)
			if math.Abs(lvlGot-lvlSrc) > 1 {
				t.Errorf("late player at %.1f dBFS, source %.1f dBFS: want within ±1 dB", lvlGot, lvlSrc)
			}
			if c.tone > 0 {
				f, rel := audiotest.Spurious(got[a:b], 16000, c.tone, 40)
				t.Logf("strongest spurious component %.0f Hz at %.1f dB", f, rel)
				if rel > -30 {
					t.Errorf("a component at %.0f Hz only %.1f dB under the %.0f Hz tone: want ≥ 30 dB", f, -rel, c.tone)
				}
			}
			if snr < c.minSNR {
				t.Errorf("late player vs a from-the-start decode: %.1f dB SNR, want ≥ %.0f", snr, c.minSNR)
			}
		})
	}
}

// firstAudioTimestamp is the timestamp of the first audio tag.
func firstAudioTimestamp(tags []testpeer.Tag) uint32 {
	for _, tg := range tags {
		if tg.Type == 8 {
			return tg.Timestamp
		}
	}
	return 0
}
