package main

import (
	"context"
	"fmt"
	"log"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flashvox/flashvox/bench/internal/proc"
	"github.com/flashvox/flashvox/bench/internal/whipload"
	"github.com/flashvox/flashvox/codec/opus"
	"github.com/flashvox/flashvox/internal/test/audiotest"
)

// runState is one run: its streams and counters.
type runState struct {
	client              whipload.Client
	mode                string
	pubCodec, playCodec string
	transcoded          bool     // the player's codec is not the publisher's
	tone                [][]byte // 1 s of a 440 Hz Opus tone (transcoded mode)
	streams             []*stream
	failed              atomic.Int64 // sessions that did not set up or connect
	sent                atomic.Int64
	frames              int
}

// connect sets up every stream: all players first (they wait for the
// publication, so no frame is sent before its player is there), then the
// publishers, parallel offers in flight; then waits for ICE.
func (r *runState) connect(ctx context.Context, base string, n, parallel int) error {
	if r.transcoded && r.pubCodec == "opus" {
		if err := r.encodeTone(); err != nil {
			return err
		}
	}
	r.streams = make([]*stream, n)
	for i := range r.streams {
		r.streams[i] = &stream{seen: map[uint32]bool{}}
	}
	for _, st := range []struct {
		kind  string
		start func(context.Context, *stream, string) error
	}{{"whep", r.startPlayer}, {"whip", r.startPublisher}} {
		kind, step := st.kind, st.start
		sem := make(chan struct{}, parallel)
		var wg sync.WaitGroup
		for i, s := range r.streams {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				c, cancel := context.WithTimeout(ctx, 30*time.Second)
				defer cancel()
				if err := step(c, s, fmt.Sprintf("%ss%d/%s", base, i, kind)); err != nil {
					r.failed.Add(1)
					log.Printf("stream %d %s: %v", i, kind, err)
				}
			}()
		}
		wg.Wait()
	}
	deadline := time.Now().Add(30 * time.Second)
	for !r.allConnected() && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond) // a load client polling its own peers, not a test
	}
	return nil
}

func (r *runState) allConnected() bool {
	for _, s := range r.streams {
		if !whipload.Up(s.pub, s.play) {
			return false
		}
	}
	return true
}

// encodeTone pre-encodes the tone the transcoded mode sends (the client
// must not spend its cores encoding).
func (r *runState) encodeTone() error {
	enc, err := opus.NewEncoder(48000, opus.EncoderOptions{})
	if err != nil {
		return err
	}
	defer enc.Close()
	pcm := audiotest.Sine(48000, 48000, 440, 0.3)
	for off := 0; off+960 <= len(pcm); off += 960 {
		pkt, err := enc.Encode(nil, pcm[off:off+960])
		if err != nil {
			return err
		}
		r.tone = append(r.tone, pkt)
	}
	return nil
}

// send writes one frame per stream every 20 ms for d.
func (r *runState) send(d time.Duration) {
	r.frames = int(d / (20 * time.Millisecond))
	live := make([]*stream, 0, len(r.streams))
	for _, s := range r.streams {
		s.sendNs = make([]atomic.Int64, r.frames)
		if whipload.Up(s.pub, s.play) {
			live = append(live, s)
		} else {
			r.failed.Add(1)
			s.close()
		}
	}
	r.streams = live
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for n := range r.frames {
		<-tick.C
		for _, s := range r.streams {
			r.write(s, uint32(n))
		}
	}
}

// drain gives the last frames a second to arrive.
func (r *runState) drain() { time.Sleep(time.Second) }

func (r *runState) close() {
	for _, s := range r.streams {
		s.close()
	}
}

func (s *stream) close() {
	for _, p := range []whipload.Peer{s.pub, s.play} {
		if p != nil {
			p.Close()
		}
	}
}

// report prints the run's figures.
func (r *runState) report(o options, elapsed, cpu, self time.Duration, rss int64, metrics string) {
	var all []time.Duration
	received := 0
	for _, s := range r.streams {
		s.mu.Lock()
		all = append(all, s.delays...)
		received += len(s.seen)
		s.mu.Unlock()
	}
	slices.Sort(all)
	pct := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[min(len(all)-1, int(math.Ceil(p*float64(len(all))))-1)]
	}
	want := len(r.streams) * r.frames
	lost := want - received
	fmt.Printf("mode %s (%s → %s), %d streams (%d WebRTC sessions), client %s, %v sending, load %s\n",
		r.mode, r.pubCodec, r.playCodec, o.streams, 2*o.streams, o.client, elapsed.Round(time.Millisecond), proc.LoadAvg())
	fmt.Printf("  sessions failed: %d of %d streams\n", r.failed.Load(), o.streams)
	fmt.Printf("  frames: sent %d, expected %d, received %d, lost %d (%.3f %%)\n",
		r.sent.Load(), want, received, lost, 100*float64(lost)/float64(max(want, 1)))
	if r.transcoded {
		fmt.Printf("  (a player there before its publisher moves to the transcoder at the first frame, which it loses: 1 per stream)\n")
	}
	fmt.Printf("  delay publisher → player: p50 %v, p99 %v, max %v\n",
		pct(0.50).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond), pct(1).Round(10*time.Microsecond))
	fmt.Printf("  server CPU: %.1f %% of one core (%v over %v), RSS %d MiB\n",
		100*cpu.Seconds()/elapsed.Seconds(), cpu.Round(time.Millisecond), elapsed.Round(time.Millisecond), rss>>20)
	fmt.Printf("  load client CPU: %.1f %% of one core (%v; this process: its %s sessions, the sending loop, the accounting)\n",
		100*self.Seconds()/elapsed.Seconds(), self.Round(time.Millisecond), o.client)
	fmt.Printf("  server metrics: %s\n", metrics)
}
