package main

import (
	"encoding/binary"
	"errors"
	"sync/atomic"
	"time"
)

// Frame layout: a Nellymoser-sized FLV audio tag body. Byte 0 is the FLV
// sound format byte, bytes 1..8 the send time (nanoseconds since the run's
// monotonic base), bytes 9..12 the publisher's frame sequence number; the
// rest is padding.
const (
	frameSize   = 65
	soundFormat = 0x42
	frameEvery  = 16 * time.Millisecond
)

var errNotBenchFrame = errors.New("not a bench frame")

// encodeFrame writes a frame into b (len(b) >= frameSize).
func encodeFrame(b []byte, sent int64, seq uint32) {
	b[0] = soundFormat
	binary.BigEndian.PutUint64(b[1:9], uint64(sent))
	binary.BigEndian.PutUint32(b[9:13], seq)
}

// decodeFrame reads what encodeFrame wrote.
func decodeFrame(b []byte) (sent int64, seq uint32, err error) {
	if len(b) != frameSize || b[0] != soundFormat {
		return 0, 0, errNotBenchFrame
	}
	return int64(binary.BigEndian.Uint64(b[1:9])), binary.BigEndian.Uint32(b[9:13]), nil
}

// Histogram buckets: fineStep resolution up to fineMax, coarseStep up to
// coarseMax, one overflow bucket beyond (reported as the maximum).
const (
	fineStep   = 5 * time.Microsecond
	fineMax    = 20 * time.Millisecond
	coarseStep = time.Millisecond
	coarseMax  = 2 * time.Second
	fineN      = int(fineMax / fineStep)
	coarseN    = int((coarseMax - fineMax) / coarseStep)
)

// Histogram records latencies from many goroutines without allocating.
type Histogram struct {
	counts [fineN + coarseN + 1]atomic.Uint64
	n      atomic.Uint64
	max    atomic.Int64
}

func bucketOf(d time.Duration) int {
	switch {
	case d < 0:
		return 0
	case d < fineMax:
		return int(d / fineStep)
	case d < coarseMax:
		return fineN + int((d-fineMax)/coarseStep)
	}
	return fineN + coarseN
}

// upperBound is the largest latency bucket i holds.
func upperBound(i int) time.Duration {
	if i < fineN {
		return time.Duration(i+1) * fineStep
	}
	return fineMax + time.Duration(i-fineN+1)*coarseStep
}

// Record adds one latency.
func (h *Histogram) Record(d time.Duration) {
	h.counts[bucketOf(d)].Add(1)
	h.n.Add(1)
	for {
		m := h.max.Load()
		if int64(d) <= m || h.max.CompareAndSwap(m, int64(d)) {
			return
		}
	}
}

// Count is the number of recorded latencies.
func (h *Histogram) Count() uint64 { return h.n.Load() }

// Max is the largest recorded latency.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max.Load()) }

// Quantile returns the upper bound of the bucket holding the q-th latency
// (0 < q <= 1), never more than Max; 0 when empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(q*float64(n) + 0.999999)
	rank = min(max(rank, 1), n)
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			if i == len(h.counts)-1 {
				return h.Max()
			}
			return min(upperBound(i), h.Max())
		}
	}
	return h.Max()
}

// cpuPer1000PerMin normalises CPU time to seconds per 1000
// subscriber-streams per minute of relaying.
func cpuPer1000PerMin(cpu time.Duration, subStreams int, window time.Duration) float64 {
	if subStreams == 0 || window <= 0 {
		return 0
	}
	return cpu.Seconds() / (float64(subStreams) / 1000) / window.Minutes()
}
