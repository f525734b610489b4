package conference

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/media"
)

// mixCodecs records the codec of every audio frame of key until ctx ends.
func mixCodecs(ctx context.Context, h *media.Hub, key string) []codec.ID {
	q := h.NewQueue(0)
	sub := h.Subscribe(key, q)
	defer sub.Close()
	var ids []codec.ID
	for {
		f, err := q.Next(ctx)
		if err != nil {
			return ids
		}
		if f.Kind != media.KindAudio {
			continue
		}
		ids = append(ids, f.Codec)
	}
}

// oneCodec fails unless ids is long enough and all want.
func oneCodec(t *testing.T, what string, ids []codec.ID, want codec.ID) {
	t.Helper()
	if len(ids) < 10 {
		t.Fatalf("%s: %d mix frames", what, len(ids))
	}
	for i, id := range ids {
		if id != want {
			t.Fatalf("%s: frame %d of %d is %v, want every frame %v (first %v)", what, i, len(ids), id, want, ids[0])
		}
	}
}

// A mix keeps one codec from its first frame to its last: a web member
// who names no codec hears the room's default even when its own audio
// turns out to be another codec; one who names a codec hears that one.
func TestMixKeepsItsCodec(t *testing.T) {
	testpeer.SkipShort(t, "seconds of real-time media and timers")
	for _, tc := range []struct {
		name   string
		o      JoinOptions
		room   codec.ID // RoomConfig.Codec
		sends  codec.ID
		hears  codec.ID
		before bool // the member sends before the mix starts
	}{
		{"web default", JoinOptions{User: "alice"}, 0, codec.Nellymoser, codec.Speex, false},
		{"web named", JoinOptions{User: "alice", Codec: codec.Nellymoser}, 0, codec.Speex, codec.Nellymoser, false},
		{"room default", JoinOptions{User: "alice"}, codec.PCMU, codec.Speex, codec.PCMU, false},
		{"sip learns", JoinOptions{User: "sip:bob", Kind: KindSIP}, 0, codec.G722, codec.G722, true},
		{"call learns", JoinOptions{User: "bob", Kind: KindCall}, 0, codec.Nellymoser, codec.Nellymoser, true},
		{"sip named", JoinOptions{User: "sip:bob", Kind: KindSIP, Codec: codec.PCMA}, 0, codec.G722, codec.PCMA, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestService(t, Options{DefaultMode: ModeMixed, Rooms: []RoomConfig{{Name: "r", Codec: tc.room}}})
			h := s.opts.Hub
			m, j, err := s.Join("r", tc.o)
			if err != nil || j.Play == "" {
				t.Fatalf("join: %+v %v", j, err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 1200*time.Millisecond)
			defer cancel()
			got := make(chan []codec.ID)
			go func() { got <- mixCodecs(ctx, h, m.PlayKey()) }()
			if !tc.before {
				// The mix runs in the default before the member's first audio.
				waitMix(t, s, 5)
			}
			go talker(ctx, t, h, m.PublishKey(), tc.sends, 700)
			oneCodec(t, tc.name, <-got, tc.hears)
		})
	}
}

// A SIP member that sends nothing within learnWait hears the default, and
// keeps it when its audio comes.
func TestMixLearningGivesUp(t *testing.T) {
	s := newTestService(t, Options{DefaultMode: ModeMixed})
	h := s.opts.Hub
	m, _, err := s.Join("r", JoinOptions{User: "sip:bob", Kind: KindSIP})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1800*time.Millisecond)
	defer cancel()
	got := make(chan []codec.ID)
	go func() { got <- mixCodecs(ctx, h, m.PlayKey()) }()
	waitMix(t, s, learnWait/frameMillis+5)
	go talker(ctx, t, h, m.PublishKey(), codec.G722, 700)
	ids := <-got
	oneCodec(t, "silent SIP member", ids, codec.Speex)
	if n := len(ids); n > (1800-learnWait)/frameMillis+5 {
		t.Errorf("%d mix frames in 1.8 s: the mix did not wait for the member's codec", n)
	}
}

// waitMix waits until the room service made n mixes.
func waitMix(t *testing.T, s *Service, n uint64) {
	t.Helper()
	testwait.ForDetail(t, 10*time.Second, fmt.Sprintf("%d mixes", n), func() bool { return s.Stats.Mixes.Load() >= n },
		func() string { return fmt.Sprintf("only %d mixes", s.Stats.Mixes.Load()) })
}

// The no-switch rule itself: once the output started, want changes nothing.
func TestOutputCodecIsFixedOnceStarted(t *testing.T) {
	o := output{learn: true, fallback: codec.Speex, complexity: DefaultSpeexComplexity}
	o.want(codec.Speex, 0)
	noLog := func(id codec.ID, err error) { t.Errorf("%v: %v", id, err) }
	if o.ready(0, noLog) || o.ready(learnWait-frameMillis, noLog) {
		t.Fatal("a learning output is ready before learnWait")
	}
	o.learned(codec.Nellymoser, 8000)
	o.ready(learnWait-frameMillis, noLog) // no publisher: not ready, but started
	t.Cleanup(o.close)
	if !o.started || o.id != codec.Nellymoser || o.rate != 8000 {
		t.Fatalf("learned codec not started: %v at %d", o.id, o.rate)
	}
	if o.want(codec.Speex, 0) {
		t.Error("want changed a started output's codec")
	}
	o.learned(codec.PCMU, 8000)
	if o.id != codec.Nellymoser || o.wantID != codec.Nellymoser {
		t.Errorf("codec changed after start: %v (want %v)", o.id, o.wantID)
	}
	if err := checkCodec(codec.Nellymoser, 8000); err != nil {
		t.Error(err)
	}
	for _, bad := range [][2]int{{int(codec.Speex), 8000}, {int(codec.MP3), 0}, {0, 8000}} {
		if checkCodec(codec.ID(bad[0]), bad[1]) == nil {
			t.Errorf("checkCodec(%v, %d) accepted", codec.ID(bad[0]), bad[1])
		}
	}
	if _, err := ParseCodec("g722"); err == nil {
		t.Error("ParseCodec accepts g722, which FLV cannot carry")
	}
	if id, err := ParseCodec("Nellymoser"); err != nil || id != codec.Nellymoser {
		t.Errorf("ParseCodec(Nellymoser) = %v, %v", id, err)
	}
}
