package cluster

import (
	"bytes"
	"encoding/binary"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/media"
)

// appendBatchEntry appends one entry: name and an already encoded frame
// (a forged one too).
func appendBatchEntry(b []byte, name string, frame []byte) []byte {
	if len(b) == 0 {
		b = append(b, batchVersion)
	}
	b = binary.AppendUvarint(b, uint64(len(name)))
	b = append(b, name...)
	b = binary.AppendUvarint(b, uint64(len(frame)))
	return append(b, frame...)
}

func TestBatchRoundTrip(t *testing.T) {
	type entry struct{ name, frame string }
	long := strings.Repeat("k", maxBatchName)
	frame := func(n int) string {
		b, _ := AppendFrame(nil, &media.Frame{Kind: media.KindAudio, Payload: bytes.Repeat([]byte{7}, n)})
		return string(b)
	}
	for _, tc := range [][]entry{
		{{"a.bGl2ZS94", frame(64)}},
		{{"a.bGl2ZS94", frame(0)}, {"a.bGl2ZS95.pcmu", frame(160)}, {"a.bGl2ZS94", frame(1)}},
		{{long, frame(300)}},
	} {
		var b []byte
		for _, e := range tc {
			b = appendBatchEntry(b, e.name, []byte(e.frame))
		}
		var got []entry
		if err := walkBatch(b, func(name, frame []byte) { got = append(got, entry{string(name), string(frame)}) }); err != nil {
			t.Fatalf("%d entries: %v", len(tc), err)
		}
		if len(got) != len(tc) {
			t.Fatalf("got %d entries, want %d", len(got), len(tc))
		}
		for i := range tc {
			if got[i] != tc[i] {
				t.Fatalf("entry %d: got %q, want %q", i, got[i].name, tc[i].name)
			}
		}
	}
}

// TestBatchRefusesMalformed: every cut or forged length is refused, and
// the entries before it are still handed over.
func TestBatchRefusesMalformed(t *testing.T) {
	f, _ := AppendFrame(nil, nelly(16))
	good := appendBatchEntry(nil, "a.eA", f)
	tooLong := append([]byte{batchVersion}, binary.AppendUvarint(nil, maxBatchName+1)...)
	tooLong = append(tooLong, make([]byte, maxBatchName+1)...)
	for _, tc := range []struct {
		name   string
		b      []byte
		before int
	}{
		{"empty", nil, 0},
		{"version", append([]byte{9}, good[1:]...), 0},
		{"cut in the frame", good[:len(good)-1], 0},
		{"cut after the name", good[:1+1+4], 0},
		{"empty name", append([]byte{batchVersion, 0, byte(len(f))}, f...), 0},
		{"name past the bound", tooLong, 0},
		{"frame shorter than a header", []byte{batchVersion, 1, 'x', 2, 1, 1}, 0},
		{"varint overflow", append(append([]byte(nil), good...), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), 1},
		{"a good entry then a cut one", append(append([]byte(nil), good...), good[1:len(good)-3]...), 1},
	} {
		n := 0
		if err := walkBatch(tc.b, func(_, _ []byte) { n++ }); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
		if n != tc.before {
			t.Errorf("%s: %d entries handed over, want %d", tc.name, n, tc.before)
		}
	}
}

// FuzzBatch: walkBatch never panics, hands over only bounded entries, and
// what it accepts encodes back to the same bytes.
func FuzzBatch(f *testing.F) {
	fr, _ := AppendFrame(nil, nelly(16))
	f.Add(appendBatchEntry(appendBatchEntry(nil, "a.eA", fr), "b.eQ.pcmu", fr))
	f.Add([]byte{batchVersion})
	f.Add([]byte{batchVersion, 1, 'x', 15})
	f.Fuzz(func(t *testing.T, b []byte) {
		var again []byte
		err := walkBatch(b, func(name, frame []byte) {
			if len(name) == 0 || len(name) > maxBatchName || len(frame) < frameHeaderSize {
				t.Fatalf("entry of %d and %d bytes handed over", len(name), len(frame))
			}
			again = appendBatchEntry(again, string(name), frame)
		})
		if err == nil && len(b) > 1 && !bytes.Equal(again, b) {
			// Non-minimal varints decode but encode shorter: compare what they carry.
			n := 0
			_ = walkBatch(again, func(_, _ []byte) { n++ })
			m := 0
			_ = walkBatch(b, func(_, _ []byte) { m++ })
			if n != m {
				t.Fatalf("%d entries, %d after encoding again", m, n)
			}
		}
	})
}

// arrivals is a player that keeps when each audio frame came.
type arrivals struct {
	mu sync.Mutex
	at []time.Time
}

func (a *arrivals) Receive(f *media.Frame) {
	if f.Kind == media.KindAudio {
		a.mu.Lock()
		a.at = append(a.at, time.Now())
		a.mu.Unlock()
	}
}

func (a *arrivals) last() (int, time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.at) == 0 {
		return 0, time.Time{}
	}
	return len(a.at), a.at[len(a.at)-1]
}

// TestRelayBatchHold: a frame after a quiet spell leaves at once, one right
// behind it waits for the round RelayBatch after.
func TestRelayBatchHold(t *testing.T) {
	testpeer.SkipShort(t, "seconds of real-time media and timers")
	const hold = time.Second
	ns := startNodesWith(t, []string{"a", "b"}, func(_ int, o *Options) { o.RelayBatch = hold })
	a, b := ns[0], ns[1]
	pub, err := a.hub.Publish("live/h")
	if err != nil {
		t.Fatal(err)
	}
	pl := &arrivals{}
	defer b.hub.Subscribe("live/h", pl).Close()
	// Frames until the relay is up (the first ones go nowhere), then a
	// quiet spell: nothing written for twice the hold, so every frame
	// written has arrived and the next round is not held.
	ts := uint32(0)
	testwait.For(t, 10*time.Second, "the relay on b", func() bool {
		pub.Write(nelly(ts))
		ts += 16
		n, _ := pl.last()
		return n > 0
	})
	wrote := time.Now()
	testwait.For(t, 5*time.Second, "a quiet spell", func() bool { return time.Since(wrote) > 2*hold })
	n0, _ := pl.last()

	sent := time.Now()
	pub.Write(nelly(ts))
	testwait.For(t, 5*time.Second, "the frame after the quiet spell", func() bool { n, _ := pl.last(); return n == n0+1 })
	_, first := pl.last()
	if d := first.Sub(sent); d > hold*8/10 {
		t.Fatalf("a frame after a quiet spell took %v: held (RelayBatch %v)", d, hold)
	}
	pub.Write(nelly(ts + 16))
	testwait.For(t, 5*time.Second, "the frame right behind it", func() bool { n, _ := pl.last(); return n == n0+2 })
	if _, second := pl.last(); second.Sub(sent) < hold {
		t.Fatalf("the frame right behind came %v after the first was sent: not held for the round %v later", second.Sub(sent), hold)
	}
	if bo, fo := a.c.Stats.BatchesOut.Load(), a.c.Stats.FramesOut.Load(); bo == 0 || bo > fo {
		t.Fatalf("%d batches for %d frames", bo, fo)
	}
}

// TestPendingBounded: frames for a node whose sender does not run are
// dropped and counted past maxPending, and each batch stays within
// batchTarget; what is kept walks back to the frames added.
func TestPendingBounded(t *testing.T) {
	c := &Cluster{}
	ex := newExporter(c)
	f := nelly(16)
	want, _ := AppendFrame(nil, f)
	n := 0
	for ex.c.Stats.ExportDrops.Load() == 0 {
		ex.add("a.eA", []string{"b", "c"}, f)
		if n++; n > 2*maxPending {
			t.Fatal("nothing dropped")
		}
	}
	for _, node := range []string{"b", "c"} {
		p := ex.pending[node]
		if p.bytes > maxPending {
			t.Fatalf("%s: %d bytes pending, bound %d", node, p.bytes, maxPending)
		}
		frames := 0
		for _, b := range append(p.full, p.cur) {
			if len(b) > batchTarget {
				t.Fatalf("%s: a batch of %d bytes, target %d", node, len(b), batchTarget)
			}
			if err := walkBatch(b, func(name, frame []byte) {
				if string(name) != "a.eA" || !bytes.Equal(frame, want) {
					t.Fatalf("%s: entry %q %x", node, name, frame)
				}
				frames++
			}); err != nil {
				t.Fatal(err)
			}
		}
		if frames != n-1 {
			t.Fatalf("%s: %d frames kept of %d added before the first drop", node, frames, n-1)
		}
	}
}

// BenchmarkBatchRound: one busy round of the exporter, 1 000 relayed
// Nellymoser frames to one node (several batches), then their sending;
// allocations per round are what the relay adds to the node's GC.
func BenchmarkBatchRound(b *testing.B) {
	ex := newExporter(&Cluster{})
	f := nelly(64)
	to := []string{"b"}
	b.ReportAllocs()
	for b.Loop() {
		for range 1000 {
			ex.add("a.eAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", to, f)
		}
		for _, p := range ex.pending {
			p.sent()
		}
	}
}

// TestBatchBuffersReused: a round's batches go back for the next ones,
// which carry exactly their own frames, in order, and a busy round after
// the first takes no new buffer.
func TestBatchBuffersReused(t *testing.T) {
	ex := newExporter(&Cluster{})
	round := func(base uint32) []uint32 {
		for i := range uint32(1000) {
			ex.add("a.eA", []string{"b"}, nelly(base+i))
		}
		p := ex.pending["b"]
		var got []uint32
		for _, b := range append(p.full, p.cur) {
			if err := walkBatch(b, func(_, frame []byte) {
				f, err := UnmarshalFrame(frame)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, f.Timestamp)
			}); err != nil {
				t.Fatal(err)
			}
		}
		if len(p.full) < 2 {
			t.Fatalf("%d full batches: the round is too small to test reuse", len(p.full))
		}
		p.sent()
		return got
	}
	for r := range uint32(3) {
		got := round(r * 10000)
		if len(got) != 1000 {
			t.Fatalf("round %d: %d frames, want 1000", r, len(got))
		}
		for i, ts := range got {
			if ts != r*10000+uint32(i) {
				t.Fatalf("round %d: frame %d has timestamp %d", r, i, ts)
			}
		}
	}
	f := nelly(1)
	if a := testing.AllocsPerRun(5, func() {
		for range 1000 {
			ex.add("a.eA", []string{"b"}, f)
		}
		ex.pending["b"].sent()
	}); a != 0 {
		t.Fatalf("%.1f allocations per busy round after the first", a)
	}
}
