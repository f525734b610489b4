package session_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/teststack"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/session"
)

// TestPeerPlayWait: with play_wait 1s, ffmpeg playing a
// name nobody publishes is told NetStream.Play.StreamNotFound and exits
// with an error within seconds, where it used to wait for ever with no
// status; a publisher that comes within play_wait (3s here) is played.
func TestPeerPlayWait(t *testing.T) {
	testpeer.SkipShort(t, "real peers")
	testpeer.Require(t, "ffmpeg")
	open := func(wait time.Duration) *session.LiveApp {
		return &session.LiveApp{Publish: session.PolicyOpen, Play: session.PolicyOpen, PlayWait: wait}
	}
	st := teststack.Start(t, teststack.Options{Apps: map[string]session.App{"live": open(time.Second), "wait3": open(3 * time.Second)}})
	dir := t.TempDir()

	start := time.Now()
	out, err := testpeer.Run(t, 30*time.Second, "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
		"-i", st.URL("live")+"/nobody", "-t", "2", "-f", "wav", filepath.Join(dir, "none.wav"))
	took := time.Since(start)
	t.Logf("ffmpeg playing a name nobody publishes: %v after %v:\n%s", err, took.Round(time.Millisecond), out)
	if err == nil {
		t.Error("ffmpeg exited 0 playing a name nobody publishes")
	}
	if took > 8*time.Second {
		t.Errorf("ffmpeg took %v to give up (play_wait 1s)", took)
	}
	if !strings.Contains(out, "Live stream not found") {
		t.Errorf("ffmpeg does not say why (want the StreamNotFound description)")
	}
	if !strings.Contains(st.Logs(), "NetStream.Play.StreamNotFound") {
		t.Error("the server log does not say StreamNotFound")
	}

	wav := filepath.Join(dir, "late.wav")
	player := testpeer.Start(t, 30*time.Second, "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
		"-i", st.URL("wait3")+"/late", "-t", "2", "-f", "wav", wav)
	testwait.For(t, 10*time.Second, "ffmpeg to wait for wait3/late", func() bool { return st.Hub.SubscriberCount("wait3/late") == 1 })
	testpeer.Start(t, 30*time.Second, "ffmpeg", "-hide_banner", "-loglevel", "error", "-re",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000", "-t", "10",
		"-c:a", "nellymoser", "-ar", "16000", "-ac", "1", "-f", "flv", st.URL("wait3")+"/late")
	if err := player.Wait(); err != nil {
		t.Fatalf("ffmpeg playing a name published within play_wait: %v\n%s", err, player.Output())
	}
	pcm, rate, err := audiotest.ReadWAV(wav)
	if err != nil {
		t.Fatal(err)
	}
	if len(pcm) < rate || audiotest.ToneDB(pcm, rate, 440) < -30 {
		t.Errorf("the late publisher's tone: %d samples, 440 Hz at %.1f dB", len(pcm), audiotest.ToneDB(pcm, rate, 440))
	}
}
