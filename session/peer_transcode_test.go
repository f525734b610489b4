package session_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/g711"
	"github.com/flashvox/flashvox/codec/resample"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/media/transcode"
)

// transcodeMinSNRvsFFmpeg is what decode → resample → μ-law must keep
// against ffmpeg's own decode of the published Nellymoser: 37.8 dB measured,
// μ-law's own ~38 dB on this signal being the ceiling. Against the source,
// Nellymoser itself loses most (ffmpeg's encoder → ffmpeg's decoder is at
// 4.1 dB on a pure 1 kHz tone and a sweep, phase and noise filling); the
// transcoded audio must be within transcodeCodecMarginDB of that figure.
const (
	transcodeMinSNRvsFFmpeg = 32
	transcodeCodecMarginDB  = 1
)

// TestPeerTranscodeNellymoserToPCMU: ffmpeg publishes Nellymoser 16 kHz;
// 100 Go players ask for it with play("NAME?codec=pcmu"). They share one
// transcoder, receive G.711 μ-law whose audio matches the source, and the
// transcoder stops when they leave.
func TestPeerTranscodeNellymoserToPCMU(t *testing.T) {
	srv := startServer(t, rtmpConfig())
	dir := t.TempDir()
	src := audiotest.Concat(audiotest.Sine(16000, 24000, 1000, 0.25), audiotest.Sweep(16000, 24000, 200, 3400, 0.25))
	wav := filepath.Join(dir, "src.wav")
	if err := audiotest.WriteWAV(wav, src, 16000); err != nil {
		t.Fatal(err)
	}
	flv := filepath.Join(dir, "src.flv")
	audiotest.RunFFmpeg(t, "-i", wav, "-c:a", "nellymoser", "-ar", "16000", "-ac", "1", "-f", "flv", flv)

	const n = 100
	players := make([]*player, n)
	for i := range players {
		players[i] = dialPlayer(t, srv.App(), "tc?codec=pcmu")
	}
	dkey := transcode.Key("live/tc", codec.PCMU, 0)
	testwait.For(t, 10*time.Second, "100 PCMU players", func() bool { return srv.Hub.SubscriberCount(dkey) == n })
	if got := srv.Transcoder.Stats.Transcoders.Load(); got != 1 {
		t.Fatalf("%d transcoders for %d PCMU players, want 1", got, n)
	}
	out, err := testpeer.Run(t, 40*time.Second, "ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", flv, "-c", "copy", "-f", "flv", srv.URL("tc"))
	if err != nil {
		t.Fatalf("publish: %v\n%s", err, out)
	}
	for i, p := range players {
		testwait.For(t, 10*time.Second, fmt.Sprintf("UnpublishNotify at player %d", i), func() bool {
			return p.hasStatus("NetStream.Play.UnpublishNotify")
		})
	}
	if got := srv.Transcoder.Stats.Transcoders.Load(); got != 1 {
		t.Fatalf("%d transcoders after the publisher left, want still 1", got)
	}
	want := players[0].payloads()
	var pcm []int16
	for i, p := range want {
		if len(p) != 161 || p[0] != 0x82 {
			t.Fatalf("payload %d: %d bytes starting %#x, want 0x82 and 20 ms of μ-law", i, len(p), p[0])
		}
		pcm = g711.AppendULawPCM(pcm, p[1:])
	}
	for i, p := range players[1:] {
		if got := p.payloads(); len(got) != len(want) {
			t.Fatalf("player %d got %d frames, player 0 %d", i+1, len(got), len(want))
		}
	}
	// Two references: the source itself (what the listener should hear:
	// Nellymoser's loss plus ours) and ffmpeg's decode of the published
	// Nellymoser (isolates our decode → resample → μ-law).
	ffDec := audiotest.FromS16LE(audiotest.RunFFmpeg(t, "-i", flv, "-f", "s16le", "-ac", "1", "-ar", "16000", "-"))
	to8k := func(pcm []int16) []int16 {
		rs, _ := resample.New(16000, 8000)
		return rs.Flush(rs.Resample(nil, pcm))
	}
	snrOf := func(ref, got []int16) float64 {
		m := min(len(ref), len(got)) - 800
		if m < 20000 {
			t.Fatalf("only %d samples to compare", m)
		}
		snr, _ := audiotest.AlignedSNR(ref[400:m], got[400:m], 400)
		return snr
	}
	srcRef, ffRef := to8k(src), to8k(ffDec)
	vsFF, vsSrc, ffVsSrc := snrOf(ffRef, pcm), snrOf(srcRef, pcm), snrOf(srcRef, ffRef)
	t.Logf("PCMU received (%d frames) vs ffmpeg's decode of the Nellymoser: %.1f dB; vs the source: %.1f dB (ffmpeg's Nellymoser round trip vs the source: %.1f dB)",
		len(want), vsFF, vsSrc, ffVsSrc)
	if vsFF < transcodeMinSNRvsFFmpeg {
		t.Errorf("SNR vs ffmpeg's decode %.1f dB, want ≥ %d", vsFF, transcodeMinSNRvsFFmpeg)
	}
	if vsSrc < ffVsSrc-transcodeCodecMarginDB {
		t.Errorf("SNR vs the source %.1f dB, more than %d dB below Nellymoser's own %.1f dB", vsSrc, transcodeCodecMarginDB, ffVsSrc)
	}
	for _, p := range players {
		p.c.Close()
	}
	testwait.For(t, 5*time.Second, "the transcoder to stop", func() bool { return srv.Transcoder.Stats.Transcoders.Load() == 0 })
}
