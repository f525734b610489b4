package rtmfp

import (
	"testing"
	"time"
)

// ccRun is what one simulated transfer showed.
type ccRun struct {
	maxSRTT, base time.Duration // maxSRTT: the peak after the first 2 s
	backoffs      uint64
	retrans       uint64
	delivered     int
	minCwnd       int
	dropped       int
}

// runBulk sends msgs messages of size bytes from a to b (all queued at
// once, or one per 16 ms when paced, as voice) over a link with a one-way
// delay of 20 ms and, when rate > 0, a bottleneck of rate bytes/s with an
// unbounded buffer; congestionDelay configures a's delay-based detection.
func runBulk(t *testing.T, congestionDelay time.Duration, rate int, reorder float64, msgs, size int, paced bool) ccRun {
	t.Helper()
	l, a, b := pair(t, 0, reorder, 11)
	l.delay, l.rate = 20*time.Millisecond, rate
	a.mu.Lock()
	a.lim.congestionDelay = congestionDelay
	f := a.openSendFlow(tcMetadata(0), 0, false, 1, 0)
	a.mu.Unlock()
	var r ccRun
	r.minCwnd = 1 << 30
	got := 0
	sent := 0
	for step := 0; step < 3000 && got < msgs; step++ { // ≤ 60 s of simulated time
		switch {
		case !paced && sent == 0:
			for ; sent < msgs; sent++ {
				write(l, a, f, tcMsg(20, sent, size))
			}
		case paced && sent < msgs:
			write(l, a, f, tcMsg(20, sent, size))
			sent++
		}
		l.run(20 * time.Millisecond)
		got += len(drain(b))
		a.mu.Lock()
		if step >= 100 { // past the first 2 s: slow start's overshoot and the first cuts
			r.maxSRTT = max(r.maxSRTT, a.srtt)
			r.minCwnd = min(r.minCwnd, a.cwnd)
		}
		if bb := a.rttHist.base(l.now); bb > 0 {
			r.base = bb
		}
		a.mu.Unlock()
	}
	r.delivered = got
	r.backoffs = a.stats.DelayBackoffs.Load()
	r.retrans = a.stats.Retransmissions.Load()
	r.dropped = l.dropped
	return r
}

// TestDelayCCBacksOffOnQueueingDelay: bulk data into a 64 KB/s bottleneck
// with an unbounded buffer loses nothing, so loss-based control alone lets
// the queue (and the RTT) grow for as long as there is data; with
// delay-based detection on, the window is cut while no packet is lost and
// the RTT stays near the baseline plus the configured delay.
func TestDelayCCBacksOffOnQueueingDelay(t *testing.T) {
	const msgs, size, rate = 300, 1000, 64 << 10
	off := runBulk(t, 0, rate, 0, msgs, size, false)
	on := runBulk(t, 100*time.Millisecond, rate, 0, msgs, size, false)
	t.Logf("off: %+v", off)
	t.Logf("on:  %+v", on)
	for name, r := range map[string]ccRun{"off": off, "on": on} {
		if r.delivered != msgs || r.dropped != 0 {
			t.Fatalf("%s: %d of %d messages delivered, %d datagrams dropped", name, r.delivered, msgs, r.dropped)
		}
	}
	if off.backoffs != 0 {
		t.Errorf("delay-based detection off, yet %d delay backoffs", off.backoffs)
	}
	if off.maxSRTT < time.Second {
		t.Errorf("without delay-based detection the queue should build: smoothed RTT peaked at %v", off.maxSRTT)
	}
	if on.backoffs == 0 {
		t.Fatal("with delay-based detection on, the window was never cut")
	}
	if on.retrans != 0 {
		t.Errorf("%d retransmissions: the backoffs should come from delay alone", on.retrans)
	}
	if limit := on.base + 100*time.Millisecond + 150*time.Millisecond; on.maxSRTT > limit {
		t.Errorf("with delay-based detection the smoothed RTT peaked at %v (baseline %v, allowed %v)", on.maxSRTT, on.base, limit)
	}
	if on.maxSRTT*2 > off.maxSRTT {
		t.Errorf("delay-based detection kept the RTT at %v against %v without it", on.maxSRTT, off.maxSRTT)
	}
}

// TestDelayCCQuietWithoutQueue: with delay-based detection on, a path
// whose delay does not grow (no bottleneck, some packets 15 ms late) never
// triggers a backoff, for bulk data or for paced voice; and neither does a
// bottleneck the voice fits in.
func TestDelayCCQuietWithoutQueue(t *testing.T) {
	cases := []struct {
		name    string
		rate    int
		reorder float64
		msgs    int
		size    int
		paced   bool
	}{
		{"bulk, no bottleneck", 0, 0, 300, 1000, false},
		{"bulk, no bottleneck, jitter", 0, 0.1, 300, 1000, false},
		{"voice, no bottleneck, jitter", 0, 0.1, 200, 100, true},
		{"voice under a 16 KB/s bottleneck", 16 << 10, 0, 200, 100, true},
	}
	for _, c := range cases {
		r := runBulk(t, 100*time.Millisecond, c.rate, c.reorder, c.msgs, c.size, c.paced)
		t.Logf("%s: %+v", c.name, r)
		if r.delivered != c.msgs {
			t.Errorf("%s: %d of %d messages delivered", c.name, r.delivered, c.msgs)
		}
		if r.backoffs != 0 {
			t.Errorf("%s: %d delay backoffs with no queue building (smoothed RTT peaked at %v, baseline %v)", c.name, r.backoffs, r.maxSRTT, r.base)
		}
	}
}

// TestRTTHistory: the baseline is the least sample of the last three
// minutes and forgets older ones.
func TestRTTHistory(t *testing.T) {
	var h rttHistory
	t0 := time.Unix(1e6, 0)
	if h.base(t0) != 0 {
		t.Fatal("empty history has a baseline")
	}
	h.add(50*time.Millisecond, t0)
	h.add(40*time.Millisecond, t0.Add(time.Second))
	h.add(90*time.Millisecond, t0.Add(40*time.Second))
	if b := h.base(t0.Add(41 * time.Second)); b != 40*time.Millisecond {
		t.Errorf("baseline %v, want 40ms", b)
	}
	for i := 2; i <= 8; i++ { // the 40 ms bucket ages out
		h.add(90*time.Millisecond, t0.Add(time.Duration(i)*rttBucketSpan+time.Second))
	}
	if b := h.base(t0.Add(8*rttBucketSpan + 2*time.Second)); b != 90*time.Millisecond {
		t.Errorf("baseline %v after the old samples aged out, want 90ms", b)
	}
	h.reset()
	if h.base(t0.Add(9*rttBucketSpan)) != 0 {
		t.Error("reset kept a baseline")
	}
}
