package transcode

import (
	"fmt"
	"math"
	"testing"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/nellymoser"
	"github.com/flashvox/flashvox/codec/speex"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/media"
)

// lateJoinCase is a signal published as Speex 16 kHz that a player joins
// through a Nellymoser transcoder long after the publisher started.
type lateJoinCase struct {
	name string
	pcm  []int16
	tone float64 // the tone's frequency, 0 for the voice
}

// lateJoinCases: a −9 dBFS tone as an ordinary call carries it (over a
// microphone floor 50 dB down), the documented pure sine, and a sustained
// voice-like signal. Started mid-stream, libspeex's decoder grows the first
// two into clipped tones (−1 dBFS) with a comb of spurious components; the
// voice it merely gets wrong for a while.
func lateJoinCases() []lateJoinCase {
	const n = 16000 * 6
	amp := math.Pow(10, -9.0/20)
	call := audiotest.Sine(16000, n, 1000, amp)
	floor := audiotest.Noise(16000, n, amp/math.Sqrt2*math.Pow(10, -50.0/20), 7)
	for i := range call {
		call[i] += floor[i]
	}
	return []lateJoinCase{
		{"tone-in-a-call", call, 1000},
		{"pure-tone", audiotest.Sine(16000, n, 400, amp), 400},
		{"voice", audiotest.Voice(16000, n, 140, amp), 0},
	}
}

// speexFrames encodes pcm as FLV Speex frames (one 20 ms frame each), as
// ffmpeg and Flash publish it.
func speexFrames(t testing.TB, pcm []int16) []*media.Frame {
	t.Helper()
	enc, err := speex.NewEncoder(16000, speex.EncoderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	var out []*media.Frame
	for i := 0; i+320 <= len(pcm); i += 320 {
		p, err := enc.Encode(nil, pcm[i:i+320])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, &media.Frame{Kind: media.KindAudio, Codec: codec.Speex, Rate: 16000, Channels: 1, Timestamp: uint32(i / 16), Payload: p})
	}
	return out
}

// lateNelly publishes in on a hub, subscribes to it as Nellymoser 16 kHz
// when frame join is about to be written, and returns the decoded
// Nellymoser the subscriber received.
func lateNelly(t *testing.T, in []*media.Frame, join, rate int) []int16 {
	t.Helper()
	h, svc := newHub(1024)
	p, err := h.Publish("live/late")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range in[:join] {
		p.Write(f)
	}
	s, err := subCodecQ(svc, "live/late", codec.Nellymoser, rate)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, f := range in[join:] {
		p.Write(f)
	}
	want := (len(in)-join)*320*rate/16000/nellymoser.FrameSamples - 1 // less what the resampler holds
	dec := nellymoser.NewDecoder(rate)
	var pcm []int16
	for _, f := range collectAudio(t, s, want) {
		if f.Codec != codec.Nellymoser || f.Rate != rate {
			t.Fatalf("frame %v %d Hz, want Nellymoser %d Hz", f.Codec, f.Rate, rate)
		}
		if pcm, err = dec.Decode(pcm, f.Payload); err != nil {
			t.Fatal(err)
		}
	}
	return pcm
}

// TestTranscodeLateJoinSpeexToNellymoser: a player joining a Speex stream
// 2 s in through a Nellymoser transcoder (16 kHz, and 8 kHz through the
// resampler) hears the source at its level (±1 dB), a tone without
// spurious components (≤ −30 dB), and what a player from the start hears
// (≥ 15 dB SNR against the from-the-start transcode, which differs only by
// Nellymoser's start and noise filling).
func TestTranscodeLateJoinSpeexToNellymoser(t *testing.T) {
	for _, rate := range []int{16000, 8000} {
		for _, c := range lateJoinCases() {
			t.Run(fmt.Sprintf("%s@%d", c.name, rate), func(t *testing.T) {
				in := speexFrames(t, c.pcm)
				const join = 100 // 2 s; 100·320 samples is a whole number of Nellymoser blocks
				skip := join * 320 * rate / 16000
				early := lateNelly(t, in, 0, rate)[skip:]
				late := lateNelly(t, in, join, rate)
				// Judge from 0.5 s after the join to the end of the audio.
				a, b := rate/2, min(len(late), len(early))-rate/16
				src := c.pcm[join*320+a*16000/rate : join*320+b*16000/rate]
				got := late[a:b]
				lvlSrc, lvlGot := audiotest.RMSDB(src), audiotest.RMSDB(got)
				snr, _ := audiotest.AlignedSNR(early[a:b], got, 0)
				t.Logf("source %.1f dBFS RMS, late player %.1f dBFS; vs the from-the-start transcode %.1f dB", lvlSrc, lvlGot, snr)
				if math.Abs(lvlGot-lvlSrc) > 1 {
					t.Errorf("late player's level %.1f dBFS, source %.1f dBFS: want within ±1 dB", lvlGot, lvlSrc)
				}
				if c.tone > 0 {
					f, rel := audiotest.Spurious(got, rate, c.tone, 40)
					t.Logf("strongest spurious component: %.0f Hz at %.1f dB", f, rel)
					if rel > -30 {
						t.Errorf("spurious component at %.0f Hz, %.1f dB under the %.0f Hz tone: want ≥ 30 dB", f, -rel, c.tone)
					}
				}
				if snr < 15 {
					t.Errorf("late player vs a player from the start: %.1f dB SNR, want ≥ 15", snr)
				}
			})
		}
	}
}
