package rtmfp

import "time"

// Congestion control (RFC 7016 §3.6.2.3): the window grows as in TCP
// (RFC 5681: slow start, then about one MSS per round trip) and is halved
// on loss, here a fragment reported missing three times, and reset on a
// retransmission timeout. RFC 7016 lets a sender also infer congestion from
// increases in delay; like rtmfp-cpp's optional "delay-based congestion
// detection" (its README, and Session::onAck / checkBaseRTT), with
// Config.CongestionDelay set a smoothed RTT that far above the baseline
// (the least RTT of the last few minutes) is acted on as a loss: a voice
// server should not fill a bloated buffer at a bottleneck, as every
// frame behind that queue is late. The code below is written for flashvox;
// only the idea and the constants' orders of magnitude are rtmfp-cpp's.
const (
	// delayCCMinRTT: a smoothed RTT below this is never congestion (LAN
	// jitter, or a scheduler stall on a loaded host, is not a queue).
	delayCCMinRTT = 30 * time.Millisecond
	// The baseline is the minimum over rttBuckets buckets of rttBucketSpan:
	// about three minutes, so a route that got longer is learnt again.
	rttBucketSpan = 30 * time.Second
	rttBuckets    = 6
)

// rttHistory keeps the least RTT seen per time bucket.
type rttHistory struct {
	start [rttBuckets]time.Time // zero: bucket unused
	least [rttBuckets]time.Duration
	cur   int
}

// add records one RTT sample at now.
func (h *rttHistory) add(rtt time.Duration, now time.Time) {
	if h.start[h.cur].IsZero() || now.Sub(h.start[h.cur]) >= rttBucketSpan {
		if !h.start[h.cur].IsZero() {
			h.cur = (h.cur + 1) % rttBuckets
		}
		h.start[h.cur], h.least[h.cur] = now, rtt
		return
	}
	h.least[h.cur] = min(h.least[h.cur], rtt)
}

// base is the baseline RTT, 0 when nothing was measured.
func (h *rttHistory) base(now time.Time) time.Duration {
	var b time.Duration
	for i, st := range h.start {
		if st.IsZero() || now.Sub(st) >= rttBuckets*rttBucketSpan {
			continue
		}
		if b == 0 || h.least[i] < b {
			b = h.least[i]
		}
	}
	return b
}

// reset forgets the baseline: after a timeout, an address change, or a
// window driven to its floor by delay (the extra delay is likely not ours:
// a longer path, or traffic we cannot out-wait).
func (h *rttHistory) reset() { *h = rttHistory{} }

// delayCongested reports whether the smoothed RTT says a queue is building
// (with delay-based detection on), at most once per round trip so that a
// cut has time to show in the RTT before the next one.
func (s *session) delayCongested(now time.Time) bool {
	if s.lim.congestionDelay <= 0 || s.srtt < delayCCMinRTT {
		return false
	}
	base := s.rttHist.base(now)
	if base == 0 || s.srtt <= base+s.lim.congestionDelay {
		return false
	}
	if !s.delayCutAt.IsZero() && now.Sub(s.delayCutAt) < s.srtt {
		return false
	}
	s.delayCutAt = now
	return true
}

// onAcked updates congestion control after the acknowledgements of one
// packet; flight is what was in flight before them.
func (s *session) onAcked(acked int, loss bool, flight int, now time.Time) {
	delay := !loss && s.delayCongested(now)
	if delay {
		s.stats.add(&s.stats.DelayBackoffs, 1)
	}
	switch {
	case loss || delay:
		// RFC 5681 (4): half of what was in flight, not of a window an
		// application-limited voice flow never filled.
		s.ssthresh = max(min(s.cwnd, flight)/2, cwndTimedOut)
		s.cwnd = s.ssthresh
		if delay && s.cwnd == cwndTimedOut {
			s.rttHist.reset()
		}
	case s.cwnd < s.ssthresh:
		s.cwnd += acked
	case s.cwnd > 0:
		s.cwnd += max(mss*acked/s.cwnd, 1)
	}
	s.cwnd = min(s.cwnd, 1<<22)
	if s.inflight < 0 {
		s.inflight = 0
	}
	if acked > 0 {
		s.rtoAt = time.Time{}
		if s.inflight > 0 {
			s.rtoAt = now.Add(s.rto)
		}
	}
}

// rttSample folds one round-trip measurement in (RFC 6298).
func (s *session) rttSample(rtt time.Duration, now time.Time) {
	if s.srtt == 0 {
		s.srtt, s.rttvar = rtt, rtt/2
	} else {
		d := s.srtt - rtt
		if d < 0 {
			d = -d
		}
		s.rttvar = (3*s.rttvar + d) / 4
		s.srtt = (7*s.srtt + rtt) / 8
	}
	s.rto = max(s.srtt+4*s.rttvar+delayedAck, minRTO)
	s.rttHist.add(rtt, now)
	s.stats.rtt.Store(int64(s.srtt))
}
