package media

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/flashvox/flashvox/codec"
)

func audio(ts uint32) *Frame {
	return &Frame{Kind: KindAudio, Codec: codec.Nellymoser, Rate: 16000, Channels: 1, Timestamp: ts, Payload: []byte{byte(ts)}}
}

func next(t *testing.T, s queued) *Frame {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	f, err := s.Next(ctx)
	if err != nil {
		t.Fatalf("next: %v", err)
	}
	return f
}

func TestFanOutSharesFrames(t *testing.T) {
	h := NewHub(16, nil)
	subs := []queued{subQ(h, "live/a"), subQ(h, "live/a")}
	p, err := h.Publish("live/a")
	if err != nil {
		t.Fatal(err)
	}
	f := audio(1)
	p.Write(f)
	for _, s := range subs {
		if ev := next(t, s); ev.Kind != KindPublish {
			t.Fatalf("first must be the publish event, got %v", ev.Kind)
		}
		if got := next(t, s); got != f {
			t.Fatal("subscriber must get the very same frame pointer")
		}
	}
	if h.Stats.FramesOut.Load() != 2 || h.Stats.FramesIn.Load() != 1 {
		t.Fatalf("stats: in %d out %d", h.Stats.FramesIn.Load(), h.Stats.FramesOut.Load())
	}
}

func TestBadNameAndRepublish(t *testing.T) {
	h := NewHub(16, nil)
	p, err := h.Publish("live/a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Publish("live/a"); !errors.Is(err, ErrBadName) {
		t.Fatalf("second publish: %v", err)
	}
	sub := subQ(h, "live/a")
	p.Close()
	if ev := next(t, sub); ev.Kind != KindUnpublish {
		t.Fatalf("got %v", ev.Kind)
	}
	p2, err := h.Publish("live/a")
	if err != nil {
		t.Fatalf("publish after close: %v", err)
	}
	if ev := next(t, sub); ev.Kind != KindPublish {
		t.Fatalf("subscriber must see the new publisher, got %v", ev.Kind)
	}
	p2.Close()
	sub.Close()
	if n := len(h.streams); n != 0 {
		t.Fatalf("idle streams must be released, %d left", n)
	}
}

func TestSlowSubscriberDropsOldestOnly(t *testing.T) {
	h := NewHub(4, nil)
	slow := subQ(h, "s")
	fast := subQ(h, "s")
	p, _ := h.Publish("s")
	next(t, fast) // publish event
	for ts := uint32(1); ts <= 10; ts++ {
		p.Write(audio(ts))
		if f := next(t, fast); f.Timestamp != ts {
			t.Fatalf("fast subscriber got %d want %d", f.Timestamp, ts)
		}
	}
	// slow kept the publish event plus the newest three frames.
	want := []struct {
		k  Kind
		ts uint32
	}{{KindPublish, 0}, {KindAudio, 8}, {KindAudio, 9}, {KindAudio, 10}}
	for _, w := range want {
		f := next(t, slow)
		if f.Kind != w.k || f.Timestamp != w.ts {
			t.Fatalf("slow got %v@%d want %v@%d", f.Kind, f.Timestamp, w.k, w.ts)
		}
	}
	if slow.Dropped() != 7 || h.Stats.DroppedFrame.Load() != 7 {
		t.Fatalf("dropped %d / %d, want 7", slow.Dropped(), h.Stats.DroppedFrame.Load())
	}
}

func TestLateJoinerGetsHeaders(t *testing.T) {
	h := NewHub(16, nil)
	p, _ := h.Publish("v")
	meta := &Frame{Kind: KindData, Payload: []byte("onMetaData")}
	aacCfg := &Frame{Kind: KindAudio, Codec: codec.AAC, Channels: 2, Config: true, Payload: []byte{0x12, 0x10}}
	avcCfg := &Frame{Kind: KindVideo, Config: true, Payload: []byte{0x17, 0, 0, 0, 0, 1}}
	for _, f := range []*Frame{meta, aacCfg, avcCfg, {Kind: KindAudio, Codec: codec.AAC, Channels: 2, Payload: []byte{9}}} {
		p.Write(f)
	}
	s := subQ(h, "v")
	for _, want := range []*Frame{meta, aacCfg, avcCfg} {
		f := next(t, s)
		if f != want {
			t.Fatalf("got %v %x", f.Kind, f.Payload)
		}
	}
	if f := s.TryNext(); f != nil {
		t.Fatalf("only headers expected, got %v", f.Kind)
	}
}

func TestCloseUnblocksNext(t *testing.T) {
	h := NewHub(4, nil)
	s := subQ(h, "x")
	done := make(chan error, 1)
	go func() { _, err := s.Next(context.Background()); done <- err }()
	s.Close()
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Next did not return after Close")
	}
}

func TestConcurrentPublishSubscribe(t *testing.T) {
	h := NewHub(64, nil)
	p, _ := h.Publish("c")
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				s := subQ(h, "c")
				for range 5 {
					s.TryNext()
				}
				s.Close()
			}
		}()
	}
	for ts := range uint32(20000) {
		p.Write(audio(ts))
	}
	cancel()
	wg.Wait()
	p.Close()
	if h.Stats.Subscribers.Load() != 0 || h.Stats.Publishers.Load() != 0 {
		t.Fatalf("gauges must return to 0: %d %d", h.Stats.Subscribers.Load(), h.Stats.Publishers.Load())
	}
}

func BenchmarkFanOut50(b *testing.B) {
	h := NewHub(1024, nil)
	subs := make([]queued, 50)
	for i := range subs {
		subs[i] = subQ(h, "b")
	}
	p, _ := h.Publish("b")
	f := audio(1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		p.Write(f)
		if i%512 == 0 {
			for _, s := range subs {
				for s.TryNext() != nil {
				}
			}
		}
	}
}

// recorder is a Receiver that keeps what it gets.
type recorder struct {
	mu  sync.Mutex
	got []*Frame
}

func (r *recorder) Receive(f *Frame) {
	r.mu.Lock()
	r.got = append(r.got, f)
	r.mu.Unlock()
}

func (r *recorder) frames() []*Frame {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*Frame(nil), r.got...)
}

// TestReceiverSubscriber: a Receiver gets the headers a late joiner needs,
// the frames (the same pointers), the publish events, and nothing once its
// subscription is closed; queue subscribers of the same stream are unchanged.
func TestReceiverSubscriber(t *testing.T) {
	h := NewHub(16, nil)
	p, _ := h.Publish("r")
	aacCfg := &Frame{Kind: KindAudio, Codec: codec.AAC, Channels: 2, Config: true, Payload: []byte{0x12, 0x10}}
	p.Write(aacCfg)
	var rec recorder
	sub := h.Subscribe("r", &rec)
	queued := subQ(h, "r")
	f1, f2 := audio(1), audio(2)
	p.Write(f1)
	p.Close()
	p2, _ := h.Publish("r")
	p2.Write(f2)
	got := rec.frames()
	if len(got) != 5 || got[0] != aacCfg || got[1] != f1 || got[2].Kind != KindUnpublish || got[3].Kind != KindPublish || got[4] != f2 {
		t.Fatalf("receiver got %d frames: %v", len(got), got)
	}
	for _, want := range []*Frame{aacCfg, f1} {
		if f := next(t, queued); f != want {
			t.Fatalf("queued subscriber: got %v %x, want %x", f.Kind, f.Payload, want.Payload)
		}
	}
	if n := h.SubscriberCount("r"); n != 2 {
		t.Fatalf("%d subscribers, want 2", n)
	}
	sub.Close()
	p2.Write(audio(3))
	if n := len(rec.frames()); n != 5 {
		t.Fatalf("receiver got %d frames after Close, want none more", n-5)
	}
	if n := h.SubscriberCount("r"); n != 1 {
		t.Fatalf("%d subscribers after Close, want 1", n)
	}
}

// queued is a subscription read through a Queue, as most tests read them.
type queued struct {
	*Subscriber
	*Queue
}

// Close closes the subscription (and so the queue).
func (q queued) Close() { q.Subscriber.Close() }

func subQ(h *Hub, key string) queued {
	q := h.NewQueue(0)
	return queued{h.Subscribe(key, q), q}
}

// TestTapWatchAndDerived: a watcher hears of a publication before its
// first frame and can tap it there; a tap gets every frame before the
// subscribers and is not counted as one; derived keys are published only
// through PublishDerived, and watchers are not told of them.
func TestTapWatchAndDerived(t *testing.T) {
	h := NewHub(16, nil)
	var order []string
	var watched []string
	h.WatchPublications(func(key string) {
		watched = append(watched, key)
		h.Tap(key, ReceiverFunc(func(f *Frame) { order = append(order, "tap") }))
	})
	sub := h.Subscribe("t", ReceiverFunc(func(f *Frame) {
		if f.Kind == KindAudio {
			order = append(order, "sub")
		}
	}))
	defer sub.Close()
	p, err := h.Publish("t")
	if err != nil {
		t.Fatal(err)
	}
	p.Write(audio(1))
	if len(order) != 2 || order[0] != "tap" || order[1] != "sub" {
		t.Fatalf("delivery order %v, want the tap first", order)
	}
	if n := h.SubscriberCount("t"); n != 1 || h.Stats.Subscribers.Load() != 1 {
		t.Fatalf("%d subscribers (%d counted), want 1: a tap is not one", n, h.Stats.Subscribers.Load())
	}
	if _, err := h.Publish("t#pcmu"); !errors.Is(err, ErrBadName) {
		t.Fatalf("Publish of a derived key: %v", err)
	}
	if _, err := h.PublishDerived("t"); !errors.Is(err, ErrBadName) {
		t.Fatalf("PublishDerived of a plain key: %v", err)
	}
	d, err := h.PublishDerived("t#pcmu")
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if len(watched) != 1 || watched[0] != "t" {
		t.Fatalf("watchers told of %v, want [t]", watched)
	}
}

// TestQueueReadyDropsOldest: a reader that selects on Ready and drains
// with TryNext (the SIP RTP writer) gets the newest frames of a full queue,
// and the hub counts what it lost.
func TestQueueReadyDropsOldest(t *testing.T) {
	h := NewHub(16, nil)
	p, _ := h.Publish("r")
	q := h.NewQueue(3)
	sub := h.Subscribe("r", q) // live already: no publish event queued
	defer sub.Close()
	for ts := range uint32(5) {
		p.Write(audio(ts))
	}
	select {
	case <-q.Ready():
	case <-time.After(2 * time.Second):
		t.Fatal("Ready not signalled")
	}
	var got []uint32
	for f := q.TryNext(); f != nil; f = q.TryNext() {
		got = append(got, f.Timestamp)
	}
	if len(got) != 3 || got[0] != 2 || got[2] != 4 || q.Dropped() != 2 || h.Stats.DroppedFrame.Load() != 2 {
		t.Fatalf("got %v, dropped %d (hub %d); want [2 3 4], 2", got, q.Dropped(), h.Stats.DroppedFrame.Load())
	}
}

func TestWatchDemandEdges(t *testing.T) {
	h := NewHub(8, nil)
	var got []string
	h.WatchDemand(func(key string) { got = append(got, fmt.Sprintf("%s:%d", key, h.SubscriberCount(key))) })
	tap := h.Tap("live/a", ReceiverFunc(func(*Frame) {})) // taps are no demand
	a := h.Subscribe("live/a", ReceiverFunc(func(*Frame) {}))
	b := h.Subscribe("live/a", ReceiverFunc(func(*Frame) {})) // 1→2: no edge
	d := h.Subscribe("live/a#pcmu", ReceiverFunc(func(*Frame) {}))
	a.Close() // 2→1: no edge
	b.Close()
	d.Close()
	tap.Close()
	want := []string{"live/a:1", "live/a:0"}
	if !slices.Equal(got, want) {
		t.Fatalf("demand calls %v, want %v", got, want)
	}
}

func TestPublishClientGuard(t *testing.T) {
	h := NewHub(16, nil)
	// Without a guard, PublishClient is Publish.
	p, err := h.PublishClient("live/a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.PublishClient("live/a"); !errors.Is(err, ErrBadName) {
		t.Fatalf("second publish: %v", err)
	}
	p.Close()
	var asked []string
	done := 0
	h.SetPublishGuard(func(key string) (func(*Publisher), error) {
		asked = append(asked, key)
		if key == "live/taken" {
			return nil, errors.New("published on node b")
		}
		return func(*Publisher) { done++ }, nil
	})
	if _, err := h.PublishClient("live/taken"); !errors.Is(err, ErrBadName) {
		t.Fatalf("guard's refusal: %v", err)
	}
	p, err = h.PublishClient("live/free")
	if err != nil || done != 1 {
		t.Fatalf("guard's consent: %v, done called %d times", err, done)
	}
	// In use here: refused without asking; derived keys never asked.
	if _, err := h.PublishClient("live/free"); !errors.Is(err, ErrBadName) {
		t.Fatalf("in use here: %v", err)
	}
	if _, err := h.PublishClient("live/free#pcmu"); !errors.Is(err, ErrBadName) {
		t.Fatalf("derived key: %v", err)
	}
	if len(asked) != 2 {
		t.Fatalf("guard asked for %v, want live/taken and live/free only", asked)
	}
	// Server components' Publish is not guarded.
	q, err := h.Publish("live/taken")
	if err != nil || len(asked) != 2 {
		t.Fatalf("Publish: %v, asked %v", err, asked)
	}
	q.Close()
	p.Close()
	h.SetPublishGuard(nil)
	if p, err = h.PublishClient("live/taken"); err != nil {
		t.Fatalf("guard removed: %v", err)
	}
	p.Close()
}

// TestPublisherEnd: End closes a publication for its owner, once, and
// tells it (before or after OnEnd was set); a Close first tells nobody.
func TestPublisherEnd(t *testing.T) {
	h := NewHub(16, nil)
	var events []Kind
	defer h.Subscribe("live/e", ReceiverFunc(func(f *Frame) { events = append(events, f.Kind) })).Close()
	p, err := h.Publish("live/e")
	if err != nil {
		t.Fatal(err)
	}
	var told []error
	p.OnEnd(func(why error) { told = append(told, why) })
	why := errors.New("lost the name")
	if !p.End(why) || p.End(why) || !p.Closed() || h.Published("live/e") {
		t.Fatalf("End: closed %v, published %v; a second End must report false", p.Closed(), h.Published("live/e"))
	}
	p.Close() // the owner's Close afterwards: nothing more
	if len(told) != 1 || told[0] != why || !slices.Equal(events, []Kind{KindPublish, KindUnpublish}) {
		t.Fatalf("told %v, events %v", told, events)
	}
	// Ended before the owner set OnEnd: told at once.
	p, _ = h.Publish("live/e")
	p.End(why)
	p.OnEnd(func(why error) { told = append(told, why) })
	// Closed by its owner first: End does nothing, nobody is told.
	q, _ := h.Publish("live/e")
	q.OnEnd(func(why error) { told = append(told, why) })
	q.Close()
	if q.End(why) || len(told) != 2 {
		t.Fatalf("told %d times, want 2", len(told))
	}
}
