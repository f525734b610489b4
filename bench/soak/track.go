package main

import (
	"slices"
	"sync"
	"time"
)

// gapLimit is the silence a listener notices: two frames arriving further
// apart than this are one audio gap.
const gapLimit = 100 * time.Millisecond

// track records what one normal listener received: the arrival time and
// RTMP timestamp of every audio frame, and the send time when the frame
// carries a marker (sent = zero time otherwise). The client's dispatch
// goroutine adds; the report reads after the load has stopped.
type track struct {
	class string // relay, call, conference
	name  string
	frame time.Duration // nominal frame length (timestamps advance by it)

	mu      sync.Mutex
	arrival []time.Time
	ts      []uint32
	lat     []time.Duration // arrival − send time, markers only
	broken  string          // why the listener stopped early ("" = it did not)
}

func newTrack(class, name string, frame time.Duration) *track {
	return &track{class: class, name: name, frame: frame}
}

func (t *track) add(at time.Time, ts uint32, sent time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.arrival = append(t.arrival, at)
	t.ts = append(t.ts, ts)
	if !sent.IsZero() {
		t.lat = append(t.lat, at.Sub(sent))
	}
}

// fail records that the listener lost its stream before the end.
func (t *track) fail(why string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.broken == "" {
		t.broken = why
	}
}

// trackStats is what a listener saw.
type trackStats struct {
	frames, lost, gaps int
	// lat are one-way latencies from markers (absolute) or, without
	// markers, arrival − timestamp above the track's minimum (added).
	lat      []time.Duration
	markers  bool
	broken   string
	gapSpans []span // the silences
}

// stats summarises the track. Frames lost are holes in the timestamp
// sequence (a jump of more than 1.5 frames counts the frames it skips);
// gaps are arrivals more than gapLimit after the previous one.
func (t *track) stats() trackStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := trackStats{frames: len(t.arrival), broken: t.broken}
	fr := int64(t.frame / time.Millisecond)
	var offs []time.Duration
	for i := range t.arrival {
		offs = append(offs, t.arrival[i].Sub(time.UnixMilli(int64(t.ts[i]))))
		if i == 0 {
			continue
		}
		if t.arrival[i].Sub(t.arrival[i-1]) > gapLimit {
			st.gaps++
			st.gapSpans = append(st.gapSpans, span{t.arrival[i-1], t.arrival[i]})
		}
		if d := int64(int32(t.ts[i] - t.ts[i-1])); d > fr*3/2 {
			st.lost += int((d+fr/2)/fr) - 1
		}
	}
	if len(t.lat) > 0 {
		st.lat, st.markers = slices.Clone(t.lat), true
		return st
	}
	st.lat = addedDelay(t.arrival, offs, addedWindow)
	return st
}

// addedWindow is how far back the added delay of a frame looks for the
// stream's quickest frame.
const addedWindow = 10 * time.Second

// addedDelay is, per frame, its arrival − timestamp offset above the
// smallest offset of the frames that arrived in the addedWindow before it
// (a sliding minimum, kept in a monotonic deque): how late it came
// compared with the stream's recent best. A sliding rather than a global
// minimum because a server that skips frames after a stall (a mixer
// catching up) shifts every later offset for good, while a player just
// plays on.
func addedDelay(arrival []time.Time, offs []time.Duration, window time.Duration) []time.Duration {
	out := make([]time.Duration, 0, len(offs))
	var dq []int // indexes of increasing offsets
	for i, o := range offs {
		for len(dq) > 0 && offs[dq[len(dq)-1]] >= o {
			dq = dq[:len(dq)-1]
		}
		dq = append(dq, i)
		for arrival[i].Sub(arrival[dq[0]]) > window {
			dq = dq[1:]
		}
		out = append(out, o-offs[dq[0]])
	}
	return out
}

// pct is the q-quantile of v (sorted in place), 0 for none.
func pct(v []time.Duration, q float64) time.Duration {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return v[min(len(v)-1, int(q*float64(len(v))))]
}
