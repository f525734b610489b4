package main

import (
	"encoding/binary"
	"sync/atomic"
	"time"

	"github.com/flashvox/flashvox/rtmp"
)

// batchTick is how often -publishers batch sends the frames that are due.
const batchTick = 2 * time.Millisecond

// frame is one audio body: the send time (ns since base) and a sequence
// number inside, what window.frame reads back.
func frame(at int64, seq uint32) []byte {
	b := make([]byte, frameSize)
	b[0] = 0x42 // Nellymoser, as ffmpeg's FLV tags say
	binary.BigEndian.PutUint64(b[1:], uint64(at))
	binary.BigEndian.PutUint32(b[9:], seq)
	return b
}

// publish sends a frame every 16 ms from first to end; frames sent from
// measureFrom on are counted in sent, up to end as the window counts them
// (a tick just before end whose goroutine runs after it stamps its frame
// past the window: it is not owed).
func publish(c *rtmp.Client, sid uint32, first, end, base time.Time, measureFrom int64, sent *atomic.Uint64) {
	time.Sleep(time.Until(first))
	t := time.NewTicker(frameEvery)
	defer t.Stop()
	var seq uint32
	for now := first; now.Before(end); now = <-t.C {
		at := int64(time.Since(base))
		if err := c.WriteAudio(sid, uint32(now.Sub(first).Milliseconds()), frame(at, seq)); err != nil {
			return
		}
		if at >= measureFrom && at < int64(end.Sub(base)) {
			sent.Add(1)
		}
		seq++
	}
}

// publishBatch drives every publisher from one goroutine: every batchTick
// it sends each stream's frame that is due (stream i's at goAt + i × 16 ms
// / n + k × 16 ms, as publish would). One wake-up per tick instead of one
// per frame; the server receives the same frames, up to a tick later. A
// stream that fell more than a frame behind skips the missed slots, as a
// ticker drops ticks.
func publishBatch(pubs []*rtmp.Client, sids []uint32, goAt, end, base time.Time, measureFrom int64, sent *atomic.Uint64) {
	n := len(pubs)
	first := make([]time.Time, n)
	next := make([]time.Time, n)
	seq := make([]uint32, n)
	done := make([]bool, n)
	for i := range n {
		first[i] = goAt.Add(time.Duration(i) * frameEvery / time.Duration(n))
		next[i] = first[i]
	}
	time.Sleep(time.Until(goAt))
	t := time.NewTicker(batchTick)
	defer t.Stop()
	for left := n; left > 0; <-t.C {
		now := time.Now()
		for i, c := range pubs {
			if done[i] || next[i].After(now) {
				continue
			}
			if !next[i].Before(end) {
				done[i] = true
				left--
				continue
			}
			at := int64(time.Since(base))
			if err := c.WriteAudio(sids[i], uint32(next[i].Sub(first[i]).Milliseconds()), frame(at, seq[i])); err != nil {
				done[i] = true
				left--
				continue
			}
			if at >= measureFrom && at < int64(end.Sub(base)) {
				sent.Add(1)
			}
			seq[i]++
			for next[i] = next[i].Add(frameEvery); !next[i].After(now); {
				next[i] = next[i].Add(frameEvery)
			}
		}
	}
}
