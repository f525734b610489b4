package cluster

import (
	"encoding/json"
	"io"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/codecs"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/media/transcode"
)

const toneHz = 700

// startTranscodingNodes is startNodes with a transcode.Service per node
// (as a server has), budgets[i] being node i's TranscodeBudget.
func startTranscodingNodes(t *testing.T, names []string, budgets []int) ([]*node, []*transcode.Service) {
	t.Helper()
	tcs := make([]*transcode.Service, len(names))
	ns := startNodesWith(t, names, func(i int, o *Options) {
		o.Hub = media.NewHub(64, nil)
		tcs[i] = transcode.New(o.Hub, nil)
		o.Transcoder = tcs[i]
		if budgets != nil {
			o.TranscodeBudget = budgets[i]
		}
	})
	return ns, tcs
}

// publishTone publishes a 700 Hz Nellymoser tone on key in real time
// until the test ends.
func publishTone(t *testing.T, hub *media.Hub, key string) {
	t.Helper()
	pub, err := hub.Publish(key)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := codecs.NewEncoder(codec.Nellymoser, 16000)
	if err != nil {
		t.Fatal(err)
	}
	pcm := audiotest.Sine(16000, 64000, toneHz, 0.25) // 4 s: a whole number of periods, so it loops smoothly
	n := enc.FrameSamples()
	var blocks [][]byte
	for i := 0; i+n <= len(pcm); i += n {
		b, err := enc.Encode(nil, pcm[i:i+n])
		if err != nil {
			t.Fatal(err)
		}
		blocks = append(blocks, b)
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		defer pub.Close()
		tick := time.NewTicker(16 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
				pub.Write(&media.Frame{Kind: media.KindAudio, Codec: codec.Nellymoser, Rate: 16000, Channels: 1,
					Timestamp: uint32(i * 16), Payload: blocks[i%len(blocks)]})
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done })
}

// listener is a ?codec= player: it keeps the audio it receives.
type listener struct {
	mu     sync.Mutex
	frames []*media.Frame
}

func (l *listener) Receive(f *media.Frame) {
	if f.Kind != media.KindAudio {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.frames = append(l.frames, f)
}

func (l *listener) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.frames)
}

// hearsTone decodes the last second of what l got and checks it is the
// publisher's tone, in the codec it asked for.
func (l *listener) hearsTone(t *testing.T, name string, id codec.ID, rate int) {
	t.Helper()
	l.mu.Lock()
	frames := l.frames[max(len(l.frames)-50, 0):]
	l.mu.Unlock()
	dec, err := codecs.NewDecoder(id, rate)
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := dec.(io.Closer); ok {
		defer c.Close()
	}
	var pcm []int16
	for _, f := range frames {
		if f.Codec != id || f.Rate != rate {
			t.Fatalf("%s: a frame in %s at %d Hz, want %s at %d", name, f.Codec, f.Rate, id, rate)
		}
		if pcm, err = dec.Decode(pcm, f.Payload); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	pcm = pcm[len(pcm)/5:] // past the decoders' start-up
	hz := audiotest.DominantHz(pcm, rate)
	db := audiotest.ToneDB(pcm, rate, toneHz)
	t.Logf("%s: %d samples, dominant %.0f Hz, tone %.1f dBFS", name, len(pcm), hz, db)
	if math.Abs(hz-toneHz) > 20 || db < -20 {
		t.Fatalf("%s does not hear the %d Hz tone: dominant %.0f Hz, tone at %.1f dBFS", name, toneHz, hz, db)
	}
}

func subscribeCodec(t *testing.T, tc *transcode.Service, key string, id codec.ID, rate int) (*listener, *transcode.Subscription) {
	t.Helper()
	l := &listener{}
	sub, err := tc.Subscribe(key, transcode.Target{Codec: id, Rate: rate, Budget: 8}, l)
	if err != nil {
		t.Fatal(err)
	}
	return l, sub
}

func TestVariantsTranscodedOnPublisherNode(t *testing.T) {
	ns, tcs := startTranscodingNodes(t, []string{"a", "b", "c"}, nil)
	a, b, c := ns[0], ns[1], ns[2]
	const key = "live/tone"
	// Each variant's frame goes once to each node that wants it (b and
	// c, in their batches), whatever the number of players there.
	var obsMu sync.Mutex
	seen := map[string]map[uint32]int{"b": {}, "c": {}}
	pcmu := batchName(variantSubject("a", key, "pcmu"))
	var obs []*nats.Subscription
	for node := range seen {
		sub, err := c.c.nc.Subscribe(subjBatchPre+node, func(m *nats.Msg) {
			_ = walkBatch(m.Data, func(name, frame []byte) {
				if string(name) != pcmu {
					return
				}
				if f, err := UnmarshalFrame(frame); err == nil && f.Kind == media.KindAudio {
					obsMu.Lock()
					seen[node][f.Timestamp]++
					obsMu.Unlock()
				}
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		obs = append(obs, sub)
	}
	defer func() {
		for _, sub := range obs {
			_ = sub.Unsubscribe()
		}
	}()
	// c's players ask before a publishes: they wait for it.
	cSpeex, cSpeexSub := subscribeCodec(t, tcs[2], key, codec.Speex, 16000)
	cPCMU, cPCMUSub := subscribeCodec(t, tcs[2], key, codec.PCMU, 8000)
	publishTone(t, a.hub, key)
	bPCMU, bPCMUSub := subscribeCodec(t, tcs[1], key, codec.PCMU, 8000)
	aSpeex, aSpeexSub := subscribeCodec(t, tcs[0], key, codec.Speex, 16000) // a local player shares a's transcoder
	defer aSpeexSub.Close()
	testwait.For(t, 15*time.Second, "a second of audio for every player", func() bool {
		return cSpeex.count() >= 60 && cPCMU.count() >= 60 && bPCMU.count() >= 60 && aSpeex.count() >= 60
	})
	cSpeex.hearsTone(t, "c speex", codec.Speex, 16000)
	cPCMU.hearsTone(t, "c pcmu", codec.PCMU, 8000)
	bPCMU.hearsTone(t, "b pcmu", codec.PCMU, 8000)
	aSpeex.hearsTone(t, "a speex", codec.Speex, 16000)

	if n := tcs[0].Stats.Transcoders.Load(); n != 2 {
		t.Fatalf("a runs %d transcoders, want 2 (one per codec for the cluster)", n)
	}
	for i, want := range []int64{0, 1, 2} {
		if n := tcs[i].Stats.Transcoders.Load(); i > 0 && n != 0 {
			t.Fatalf("%s runs %d transcoders, want none", ns[i].c.Node(), n)
		}
		if n := tcs[i].Stats.RemoteVariants.Load(); n != want {
			t.Fatalf("%s fetches %d variants, want %d", ns[i].c.Node(), n, want)
		}
	}
	if ve, ex := a.c.Stats.VariantExports.Load(), a.c.Stats.Exports.Load(); ve != 2 || ex != 0 {
		t.Fatalf("a exports %d variants and %d streams, want 2 and 0 (nobody plays the stream as published)", ve, ex)
	}
	if n := c.c.Stats.Relays.Load(); n != 0 {
		t.Fatalf("c relays %d streams, want 0: it gets the variants, not the source", n)
	}
	obsMu.Lock()
	for node, frames := range seen {
		for ts, n := range frames {
			if n != 1 {
				obsMu.Unlock()
				t.Fatalf("the pcmu variant's frame %d went %d times to %s, want once", ts, n, node)
			}
		}
		if len(frames) < 50 {
			obsMu.Unlock()
			t.Fatalf("%d pcmu frames seen going to %s", len(frames), node)
		}
	}
	obsMu.Unlock()

	// The last player of a variant leaving stops its export and a's
	// transcoder; a's own Speex player keeps that one.
	bPCMUSub.Close()
	cPCMUSub.Close()
	testwait.For(t, 5*time.Second, "a's pcmu export and transcoder to stop", func() bool {
		return a.c.Stats.VariantExports.Load() == 1 && tcs[0].Stats.Transcoders.Load() == 1
	})
	cSpeexSub.Close()
	testwait.For(t, 5*time.Second, "a's speex export to stop", func() bool {
		return a.c.Stats.VariantExports.Load() == 0 && c.c.Stats.Variants.Load() == 0 && b.c.Stats.Variants.Load() == 0
	})
	if n := tcs[0].Stats.Transcoders.Load(); n != 1 {
		t.Fatalf("a runs %d transcoders with its local speex player, want 1", n)
	}
	if c.hub.Published(transcode.Key(key, codec.Speex, 16000)) {
		t.Fatal("c still publishes the speex variant with no player")
	}
}

// A node that will not transcode (its budget) refuses; the player's node
// transcodes the variant itself from the relayed stream.
func TestVariantRefusedTranscodedLocally(t *testing.T) {
	ns, tcs := startTranscodingNodes(t, []string{"a", "c"}, []int{-1, 0})
	a, c := ns[0], ns[1]
	const key = "live/busy"
	publishTone(t, a.hub, key)
	l, sub := subscribeCodec(t, tcs[1], key, codec.PCMU, 8000)
	defer sub.Close()
	testwait.For(t, 15*time.Second, "a second of pcmu on c", func() bool { return l.count() >= 60 })
	l.hearsTone(t, "c pcmu", codec.PCMU, 8000)
	if n := a.c.Stats.VariantsRefused.Load(); n == 0 {
		t.Fatal("a refused no variant")
	}
	if n := tcs[0].Stats.Transcoders.Load(); n != 0 {
		t.Fatalf("a runs %d transcoders with no budget", n)
	}
	if tr, rv, rel := tcs[1].Stats.Transcoders.Load(), tcs[1].Stats.RemoteVariants.Load(), c.c.Stats.Relays.Load(); tr != 1 || rv != 0 || rel != 1 {
		t.Fatalf("c: %d transcoders, %d remote variants, %d relays; want 1, 0, 1", tr, rv, rel)
	}
}

// Hostile wants: a codec this build cannot make, a derived key, a node
// name that would change the reply subject: no transcoder, no export.
func TestVariantWantHostile(t *testing.T) {
	ns, tcs := startTranscodingNodes(t, []string{"a", "b"}, nil)
	a, b := ns[0], ns[1]
	const key = "live/h"
	publishTone(t, a.hub, key)
	send := func(w want) {
		t.Helper()
		raw, _ := json.Marshal(w)
		if err := b.c.nc.Publish(subjWantPre+"a", raw); err != nil {
			t.Fatal(err)
		}
	}
	send(want{From: "b", Key: key + "#pcmu"})
	send(want{From: "b.x", Key: key, Codec: "pcmu"})
	send(want{From: "b", Key: key + "#pcmu", Codec: "pcmu"})
	bad := []string{"bogus", "SPEEX", "speex@16000", "speex@44100", "pcmu@8000x", "mp3", "aac", "opus@-1", "pcmu.>", string(make([]byte, 40))}
	for _, v := range bad {
		send(want{From: "b", Key: key, Codec: v})
	}
	testwait.For(t, 5*time.Second, "a to drop every bad variant", func() bool { return a.c.Stats.BadWants.Load() == uint64(len(bad)) })
	if tr, ve, ex := tcs[0].Stats.Transcoders.Load(), a.c.Stats.VariantExports.Load(), a.c.Stats.Exports.Load(); tr != 0 || ve != 0 || ex != 0 {
		t.Fatalf("after hostile wants a runs %d transcoders, %d variant exports, %d exports; want none", tr, ve, ex)
	}
	// A good want after them is served: the bad ones were dropped, not
	// the messages after them.
	send(want{From: "b", Key: key, Codec: "pcmu"})
	testwait.For(t, 5*time.Second, "a to export the pcmu variant", func() bool { return a.c.Stats.VariantExports.Load() == 1 })
	if n := tcs[0].Stats.Transcoders.Load(); n != 1 {
		t.Fatalf("a runs %d transcoders for one variant, want 1", n)
	}
}

func TestParseVariant(t *testing.T) {
	for _, tc := range []struct {
		id   codec.ID
		rate int
	}{{codec.Speex, 16000}, {codec.Speex, 8000}, {codec.PCMU, 8000}, {codec.Nellymoser, 8000}, {codec.Opus, 48000}, {codec.G722, 16000}} {
		v := transcode.Variant(tc.id, tc.rate)
		id, rate, ok := transcode.ParseVariant(v)
		if !ok || id != tc.id || rate != tc.rate {
			t.Fatalf("ParseVariant(%q) = %s %d %v, want %s %d", v, id, rate, ok, tc.id, tc.rate)
		}
	}
}

// The stream moves to the player's node: its variant is transcoded
// there from then on, and the player hears it without asking again.
func TestVariantBecomesLocal(t *testing.T) {
	ns, tcs := startTranscodingNodes(t, []string{"a", "c"}, nil)
	a, c := ns[0], ns[1]
	const key = "live/moves"
	pubA, err := a.hub.Publish(key)
	if err != nil {
		t.Fatal(err)
	}
	l, sub := subscribeCodec(t, tcs[1], key, codec.PCMU, 8000)
	defer sub.Close()
	pubA.Write(nelly(0))
	testwait.For(t, 10*time.Second, "c to fetch the variant from a", func() bool {
		return c.c.Stats.Variants.Load() == 1 && tcs[0].Stats.Transcoders.Load() == 1
	})
	if n := tcs[1].Stats.RemoteVariants.Load(); n != 1 {
		t.Fatalf("c: %d remote variants, want 1", n)
	}
	pubA.Close()
	testwait.For(t, 5*time.Second, "c's fetch to end with a's publisher", func() bool { return c.c.Stats.Variants.Load() == 0 })
	publishTone(t, c.hub, key)
	testwait.For(t, 10*time.Second, "c to transcode the variant itself", func() bool {
		return tcs[1].Stats.Transcoders.Load() == 1 && tcs[1].Stats.RemoteVariants.Load() == 0
	})
	from := l.count()
	testwait.For(t, 10*time.Second, "a second of c's own tone in pcmu", func() bool { return l.count() >= from+60 })
	l.hearsTone(t, "c pcmu", codec.PCMU, 8000)
	testwait.For(t, 5*time.Second, "a's export and transcoder to stop", func() bool {
		return a.c.Stats.VariantExports.Load() == 0 && tcs[0].Stats.Transcoders.Load() == 0
	})
}

// The variant's node dies: the player's node ends its relay of the
// variant (its players wait on) and frees nothing it does not hold.
func TestVariantSourceNodeLost(t *testing.T) {
	ns, tcs := startTranscodingNodes(t, []string{"a", "c"}, nil)
	a, c := ns[0], ns[1]
	const key = "live/lost"
	dkey := transcode.Key(key, codec.PCMU, 8000)
	publishTone(t, a.hub, key)
	l, sub := subscribeCodec(t, tcs[1], key, codec.PCMU, 8000)
	defer sub.Close()
	testwait.For(t, 10*time.Second, "pcmu on c", func() bool { return l.count() > 10 && c.hub.Published(dkey) })
	a.c.nc.Close()
	a.c.ns.Shutdown()
	testwait.For(t, 5*time.Second, "c's relay of a's variant to end", func() bool {
		return c.c.Stats.Variants.Load() == 0 && !c.hub.Published(dkey)
	})
	if tr, rv := tcs[1].Stats.Transcoders.Load(), tcs[1].Stats.RemoteVariants.Load(); tr != 0 || rv != 1 {
		t.Fatalf("c after a's loss: %d transcoders, %d remote variants; want 0 and 1 (its player waits)", tr, rv)
	}
}

// Both nodes out of budget: the variant waits, without being published
// and unpublished every heartbeat, and is transcoded on the player's node
// as soon as its budget frees.
func TestVariantRefusedEverywhereWaits(t *testing.T) {
	testpeer.SkipShort(t, "seconds of real-time media and timers")
	ns, tcs := startTranscodingNodes(t, []string{"a", "c"}, []int{-1, 0})
	a, c := ns[0], ns[1]
	publishTone(t, a.hub, "live/far")
	publishTone(t, c.hub, "live/near")
	// c's one budgeted transcoder is taken by a local stream's player.
	busy, err := tcs[1].Subscribe("live/near", transcode.Target{Codec: codec.PCMA, Budget: 1}, &listener{})
	if err != nil {
		t.Fatal(err)
	}
	var events []media.Kind
	var mu sync.Mutex
	l := &listener{}
	sub, err := tcs[1].Subscribe("live/far", transcode.Target{Codec: codec.PCMU, Budget: 1}, media.ReceiverFunc(func(f *media.Frame) {
		if f.Kind == media.KindPublish || f.Kind == media.KindUnpublish {
			mu.Lock()
			events = append(events, f.Kind)
			mu.Unlock()
		}
		l.Receive(f)
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	testwait.For(t, 10*time.Second, "a to refuse", func() bool { return a.c.Stats.VariantsRefused.Load() >= 1 })
	// Eight of c's heartbeats on (each would ask a again without the
	// back-off), at most the first attempt's publish and unpublish
	// reached the player.
	var beats atomic.Int64
	hbSub, err := c.c.nc.Subscribe(subjHeartbeat, func(m *nats.Msg) {
		var hb heartbeat
		if json.Unmarshal(m.Data, &hb) == nil && hb.Node == "c" {
			beats.Add(1)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer hbSub.Unsubscribe()
	testwait.For(t, 10*time.Second, "eight heartbeats of c", func() bool { return beats.Load() >= 8 })
	mu.Lock()
	n := len(events)
	mu.Unlock()
	if n > 2 || a.c.Stats.VariantsRefused.Load() != 1 {
		t.Fatalf("after 8 heartbeats the player saw %d publish events and a refused %d times; want ≤ 2 and 1", n, a.c.Stats.VariantsRefused.Load())
	}
	if tr := tcs[1].Stats.Transcoders.Load(); tr != 1 || l.count() != 0 {
		t.Fatalf("c runs %d transcoders and its player got %d frames, want 1 (the local one) and 0", tr, l.count())
	}
	busy.Close()
	testwait.For(t, 10*time.Second, "c to transcode the far stream once its budget frees", func() bool {
		return tcs[1].Stats.Transcoders.Load() == 1 && l.count() >= 60
	})
	l.hearsTone(t, "c pcmu", codec.PCMU, 8000)
}
