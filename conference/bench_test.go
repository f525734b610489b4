package conference

import (
	"fmt"
	"log/slog"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/codecs"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/media"
)

// benchRoom is a mixed room of n members driven by hand: no goroutine, no
// ticker; each tick feeds every talker one 20 ms frame and mixes.
type benchRoom struct {
	x       *mixer
	ins     []*input
	frames  [][]*media.Frame // per talker, a loop of encoded frames
	talkers int
}

func newBenchRoom(b testing.TB, n, talkers int, c codec.ID, rate, complexity int) *benchRoom {
	hub := media.NewHub(64, slog.New(slog.DiscardHandler))
	s := New(Options{Hub: hub, DefaultMode: ModeMixed, SpeexComplexity: complexity})
	r := &room{svc: s, name: "bench", mode: ModeMixed, log: s.log}
	br := &benchRoom{talkers: talkers}
	for i := range n {
		m := &Member{ID: fmt.Sprint(i), User: fmt.Sprint("u", i), room: r, pub: fmt.Sprint("in", i), mix: fmt.Sprint("mix", i),
			codec: c, rate: rate, done: make(chan struct{})}
		m.in = newInput(m, hub, s.opts.StreamPrefix, s.opts)
		r.members = append(r.members, m)
		br.ins = append(br.ins, m.in)
		// Someone listens to every mix, as in a real room.
		sub := hub.Subscribe(s.opts.StreamPrefix+m.mix, media.ReceiverFunc(func(*media.Frame) {}))
		b.Cleanup(sub.Close)
	}
	r.publishSnapLocked()
	br.x = newMixer(r)
	b.Cleanup(br.x.closeAll)
	enc, err := codecs.NewEncoder(c, rate)
	if err != nil {
		b.Fatal(err)
	}
	defer closeCodec(enc)
	fs := enc.FrameSamples()
	for i := range talkers {
		tone := audiotest.Sine(rate, 50*fs, 300+float64(i)*97, 0.2)
		var loop []*media.Frame
		for k := 0; k+fs <= len(tone); k += fs {
			pkt, _ := enc.Encode(nil, tone[k:k+fs])
			loop = append(loop, &media.Frame{Kind: media.KindAudio, Codec: c, Rate: rate, Channels: 1, Payload: pkt})
		}
		br.frames = append(br.frames, loop)
	}
	return br
}

// tick feeds 20 ms of audio from each talker and mixes once. Input frames
// are reused with fresh timestamps (the mixer only reads them).
func (br *benchRoom) tick(i int) {
	for t := range br.talkers {
		loop := br.frames[t]
		f := loop[i%len(loop)]
		f.Timestamp = uint32(i * frameMillis)
		br.ins[t].push(f)
	}
	br.x.tick()
}

// BenchmarkRoomFrame is one 20 ms room-frame of a mixed room: every
// talker's audio decoded, N mix-minus-one sums, N encodes, N publishes.
func BenchmarkRoomFrame(b *testing.B) {
	for _, c := range []struct {
		name  string
		codec codec.ID
		rate  int
	}{{"speex16k", codec.Speex, 16000}, {"pcmu", codec.PCMU, 8000}} {
		for _, n := range []int{5, 10, 50} {
			for _, talkers := range []int{n, 2} {
				if talkers == 2 && n == 5 {
					continue
				}
				b.Run(fmt.Sprintf("%s/members=%d/talkers=%d", c.name, n, talkers), func(b *testing.B) {
					benchRoomFrame(b, newBenchRoom(b, n, talkers, c.codec, c.rate, 0), n)
				})
			}
		}
	}
}

// BenchmarkRoomFrameComplexity is BenchmarkRoomFrame's Speex rooms of 10
// at each mix encoder complexity (Options.SpeexComplexity), side by side.
func BenchmarkRoomFrameComplexity(b *testing.B) {
	for _, talkers := range []int{10, 2} {
		for _, cx := range []int{1, 2, 3} {
			b.Run(fmt.Sprintf("members=10/talkers=%d/complexity=%d", talkers, cx), func(b *testing.B) {
				benchRoomFrame(b, newBenchRoom(b, 10, talkers, codec.Speex, 16000, cx), 10)
			})
		}
	}
}

// benchRoomFrame times br's ticks. Besides wall time per member-frame it
// reports the CPU time of the benchmark's thread (the mixer runs on it),
// which other jobs on a shared machine inflate less.
func benchRoomFrame(b *testing.B, br *benchRoom, n int) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for i := range 100 { // warm: codecs, buffers, slabs
		br.tick(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := threadCPU()
	i := 100
	for b.Loop() {
		br.tick(i)
		i++
	}
	cpu := float64(threadCPU()-cpu0) / float64(b.N) / float64(n)
	perMember := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / float64(n)
	b.ReportMetric(perMember, "ns/member-frame")
	b.ReportMetric(cpu, "cpu-ns/member-frame")
	b.ReportMetric(20e6/perMember, "members/core")
}

// threadCPU is the calling OS thread's user+system time (Linux).
func threadCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_THREAD, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
