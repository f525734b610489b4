package main

import (
	"encoding/binary"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// leg is one direction of one call (browser → SIP or SIP → browser): when
// each frame was sent, which arrived, and how late.
type leg struct {
	sendNs []atomic.Int64 // by frame index
	step   uint32         // RTP clock units per 20 ms frame at the receiver

	mu     sync.Mutex
	seen   []bool
	delays []time.Duration
	ts0    uint32
	have   bool
}

func newLeg(frames int, step uint32) *leg {
	return &leg{sendNs: make([]atomic.Int64, frames), seen: make([]bool, frames), step: step}
}

// receive books one packet: a pass-through frame by the index it
// carries; a transcoded one by its RTP timestamp (the receiver was there
// before the first frame, so the first one received is frame 0).
func (l *leg) receive(passThrough bool, codec string, ts uint32, payload []byte, now time.Time) {
	var idx uint32
	if passThrough {
		off := 0
		if codec == "opus" {
			off = 1
		}
		if len(payload) < off+12 {
			return
		}
		idx = binary.BigEndian.Uint32(payload[off:])
	} else {
		l.mu.Lock()
		if !l.have {
			l.ts0, l.have = ts, true
		}
		idx = (ts - l.ts0) / l.step
		l.mu.Unlock()
	}
	if int(idx) >= len(l.sendNs) {
		return
	}
	sent := l.sendNs[idx].Load()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen[idx] || sent == 0 {
		return
	}
	l.seen[idx] = true
	if idx >= warmupFrames {
		l.delays = append(l.delays, now.Sub(time.Unix(0, sent)))
	}
}

// warmupFrames are left out of the delay figures (not of the losses):
// the first second, while transcoders start and pion's buffers settle.
const warmupFrames = 50

// summary is one direction's figures over every call.
type summary struct {
	expected, received int
	lostEarly          int // of the lost, frames of a call's first second (warmupFrames)
	p50, p99, max      time.Duration
}

// summarize adds up legs of frames each.
func summarize(legs []*leg, frames int) summary {
	var s summary
	var all []time.Duration
	for _, l := range legs {
		l.mu.Lock()
		for i, ok := range l.seen[:frames] {
			switch {
			case ok:
				s.received++
			case i < warmupFrames:
				s.lostEarly++
			}
		}
		all = append(all, l.delays...)
		l.mu.Unlock()
	}
	s.expected = len(legs) * frames
	slices.Sort(all)
	pct := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[max(0, min(len(all)-1, int(math.Ceil(p*float64(len(all))))-1))]
	}
	s.p50, s.p99, s.max = pct(0.5), pct(0.99), pct(1)
	return s
}

func (s summary) lossPct() float64 {
	return 100 * float64(s.expected-s.received) / float64(max(s.expected, 1))
}
