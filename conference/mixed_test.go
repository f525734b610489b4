package conference

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/audiotest"
)

// Three members of a mixed room each send a distinct tone: each one's mix
// holds the two others' tones and its own at least 30 dB below them.
func TestMixedEachHearsTheOthers(t *testing.T) {
	s := newTestService(t, Options{DefaultMode: ModeMixed})
	h := s.opts.Hub
	freqs := []float64{440, 1000, 1800}
	codecsOf := []codec.ID{codec.Speex, codec.Nellymoser, codec.Speex}
	var members []*Member
	for i := range freqs {
		m, j, err := s.Join("tones", JoinOptions{User: []string{"alice", "bob", "carol"}[i]})
		if err != nil {
			t.Fatal(err)
		}
		if j.Mode != ModeMixed || j.Play == "" {
			t.Fatalf("joined %+v", j)
		}
		members = append(members, m)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	heard := make([][]int16, len(members))
	for i, m := range members {
		wg.Go(func() { heard[i] = listen(ctx, h, m.PlayKey()) })
		wg.Go(func() { talker(ctx, t, h, m.PublishKey(), codecsOf[i], freqs[i]) })
	}
	wg.Wait()
	for i := range members {
		pcm := heard[i]
		if len(pcm) < 16000 {
			t.Fatalf("member %d heard %d samples", i, len(pcm))
		}
		pcm = pcm[len(pcm)/4:] // past the start-up
		own := audiotest.SpanToneDB(pcm, 16000, freqs[i])
		for k, f := range freqs {
			if k == i {
				continue
			}
			other := audiotest.SpanToneDB(pcm, 16000, f)
			t.Logf("member %d: %.0f Hz at %.1f dB, own %.0f Hz at %.1f dB", i, f, other, freqs[i], own)
			if other < -30 || other-own < 30 {
				t.Errorf("member %d: %.0f Hz at %.1f dB, own tone at %.1f dB", i, f, other, own)
			}
		}
	}
	if s.Stats.Mixes.Load() == 0 {
		t.Error("no mixes counted")
	}
}

// A muted member's tone leaves the others' mix at once.
func TestMixedMute(t *testing.T) {
	s := newTestService(t, Options{DefaultMode: ModeMixed})
	h := s.opts.Hub
	a, _, _ := s.Join("m", JoinOptions{User: "alice"})
	b, _, _ := s.Join("m", JoinOptions{User: "bob"})
	if err := s.Mute("bob", "m", a.ID, true); err != ErrNotModerator {
		t.Fatalf("bob mutes alice: %v", err)
	}
	if err := s.Mute("alice", "m", a.ID, true); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 800*time.Millisecond)
	defer cancel()
	var heard []int16
	var wg sync.WaitGroup
	wg.Go(func() { heard = listen(ctx, h, b.PlayKey()) })
	wg.Go(func() { talker(ctx, t, h, a.PublishKey(), codec.Speex, 1000) })
	wg.Wait()
	if db := audiotest.ToneDB(heard, 16000, 1000); db > -60 {
		t.Errorf("muted tone heard at %.1f dB", db)
	}
}
