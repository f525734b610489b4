package conference

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/codecs"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/media"
)

func newTestService(t testing.TB, o Options) *Service {
	t.Helper()
	if o.Hub == nil {
		o.Hub = media.NewHub(1024, slog.New(slog.DiscardHandler))
	}
	s := New(o)
	t.Cleanup(s.Close)
	return s
}

// recorder is a member's event log for tests.
type recorder struct {
	mu     sync.Mutex
	events []Event
	ch     chan struct{}
}

func newRecorder() *recorder { return &recorder{ch: make(chan struct{}, 1)} }

func (r *recorder) notify(e Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	select {
	case r.ch <- struct{}{}:
	default:
	}
}

// wait returns the first event matching ok, waiting up to 3 s for it.
func (r *recorder) wait(t testing.TB, what string, ok func(Event) bool) Event {
	t.Helper()
	deadline := time.After(3 * time.Second)
	for {
		r.mu.Lock()
		for _, e := range r.events {
			if ok(e) {
				r.mu.Unlock()
				return e
			}
		}
		r.mu.Unlock()
		select {
		case <-r.ch:
		case <-deadline:
			t.Fatalf("no %s event; got %+v", what, r.events)
		}
	}
}

// talker publishes a tone on key in c at 16 kHz, paced in real time, until ctx ends.
func talker(ctx context.Context, t testing.TB, h *media.Hub, key string, c codec.ID, freq float64) {
	pub, err := h.Publish(key)
	if err != nil {
		t.Error(err)
		return
	}
	defer pub.Close()
	enc, err := codecs.NewEncoder(c, 16000)
	if err != nil {
		t.Error(err)
		return
	}
	defer closeCodec(enc)
	n := enc.FrameSamples()
	tone := audiotest.Sine(16000, 16000, freq, 0.3)
	period := time.Duration(n) * time.Second / 16000
	tick := time.NewTicker(period)
	defer tick.Stop()
	pos := 0
	for i := 0; ; i++ {
		frame := make([]int16, n)
		for j := range frame {
			frame[j] = tone[pos%len(tone)]
			pos++
		}
		pkt, _ := enc.Encode(nil, frame)
		pub.Write(&media.Frame{Kind: media.KindAudio, Codec: c, Rate: 16000, Channels: 1, Timestamp: uint32(time.Duration(i) * period / time.Millisecond), Payload: pkt})
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// listen decodes key's audio until ctx ends and returns it at 16 kHz.
func listen(ctx context.Context, h *media.Hub, key string) []int16 {
	q := h.NewQueue(0)
	sub := h.Subscribe(key, q)
	defer sub.Close()
	var out []int16
	decs := map[codec.ID]codec.Decoder{}
	defer func() {
		for _, d := range decs {
			if c, ok := d.(io.Closer); ok {
				c.Close()
			}
		}
	}()
	for {
		f, err := q.Next(ctx)
		if err != nil {
			return out
		}
		id, rate, pkt := f.Codec, f.Rate, f.Payload
		if f.Kind != media.KindAudio || id == 0 || rate != 16000 {
			continue
		}
		d := decs[id]
		if d == nil {
			if d, err = codecs.NewDecoder(id, rate); err != nil {
				continue
			}
			decs[id] = d
		}
		out, _ = d.Decode(out, pkt)
	}
}
