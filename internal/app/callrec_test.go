package app

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/g711"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/media"
)

// pcmuFrames is a tone of hz as 20 ms PCMU frames.
func pcmuFrames(hz float64, n int) []*media.Frame {
	pcm := audiotest.Sine(8000, 160*n, hz, 0.3)
	out := make([]*media.Frame, n)
	for i := range out {
		b := make([]byte, 160)
		for j := range b {
			b[j] = g711.EncodeULaw(pcm[i*160+j])
		}
		out[i] = &media.Frame{Kind: media.KindAudio, Codec: codec.PCMU, Rate: 8000, Channels: 1, Timestamp: uint32(20 * i), Payload: b}
	}
	return out
}

// TestCallRecorder: a call whose parties publish two tones gives one WAV
// holding both; a call with no media through the server (p2p) gives no
// file and no path; a directory that cannot be written counts an error
// and names no file; finish of a call never started is "".
func TestCallRecorder(t *testing.T) {
	hub := media.NewHub(16, slog.New(slog.DiscardHandler))
	dir := t.TempDir()
	cr := newCallRecorder(hub, dir, slog.New(slog.DiscardHandler))
	pub := func(key string) *media.Publisher {
		p, err := hub.Publish(key)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		return p
	}
	a, b := pub("phone/a"), pub("phone/b")
	cr.start("relayed", [2]string{"phone/a", "phone/b"})
	cr.start("relayed", [2]string{"phone/a", "phone/b"}) // twice: one recording
	fa, fb := pcmuFrames(440, 150), pcmuFrames(1000, 150)
	sent := 0
	testwait.For(t, 5*time.Second, "the recording's file", func() bool {
		a.Write(fa[sent])
		b.Write(fb[sent])
		sent++
		files, _ := filepath.Glob(filepath.Join(dir, "call-*-relayed.wav"))
		return len(files) == 1
	})
	for ; sent < len(fa); sent++ {
		a.Write(fa[sent])
		b.Write(fb[sent])
		if sent%40 == 0 { // the recorder's queue holds 64 frames per party
			cr.mu.Lock()
			r := cr.live["relayed"]
			cr.mu.Unlock()
			testwait.For(t, 5*time.Second, "the recorder to take the frames", func() bool { return len(r.in[0])+len(r.in[1]) == 0 })
		}
	}
	path := cr.finish("relayed")
	pcm, rate, err := audiotest.ReadWAV(path)
	if err != nil || rate != recRate {
		t.Fatalf("%s: %v, %d Hz", path, err, rate)
	}
	lo, hi := audiotest.ToneDB(pcm, rate, 440), audiotest.ToneDB(pcm, rate, 1000)
	t.Logf("%s: %.2f s, 440 Hz %.1f dB, 1000 Hz %.1f dB", filepath.Base(path), float64(len(pcm))/recRate, lo, hi)
	if lo < -20 || hi < -20 || len(pcm) < recRate*2 {
		t.Errorf("recording: %d samples, 440 Hz %.1f dB, 1000 Hz %.1f dB", len(pcm), lo, hi)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v %v", st, err)
	}

	cr.start("p2p", [2]string{"phone/x", "phone/y"})
	if p := cr.finish("p2p"); p != "" {
		t.Errorf("p2p call recorded to %q", p)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*p2p*")); len(files) != 0 {
		t.Errorf("p2p call's files %v", files)
	}
	if p := cr.finish("never"); p != "" {
		t.Errorf("unknown call: %q", p)
	}

	bad := newCallRecorder(hub, filepath.Join(dir, "missing", "dir"), slog.New(slog.DiscardHandler))
	bad.start("c", [2]string{"phone/a", "phone/b"})
	testwait.For(t, 5*time.Second, "the failure to be counted", func() bool {
		a.Write(fa[0])
		return bad.Errors.Load() == 1
	})
	if p := bad.finish("c"); p != "" {
		t.Errorf("a recording that failed names %q", p)
	}
}
