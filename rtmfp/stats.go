package rtmfp

import "sync/atomic"

// Stats are an endpoint's counters, for metrics. Read them with Snapshot.
type Stats struct {
	Sessions          atomic.Int64 // open now
	HandshakesOK      atomic.Uint64
	HandshakesRefused atomic.Uint64 // rate-limited, over a limit, bad keying
	Malformed         atomic.Uint64 // datagrams dropped as malformed or undecryptable
	Retransmissions   atomic.Uint64
	Abandoned         atomic.Uint64 // fragments abandoned past their lifetime
	// DelayBackoffs counts congestion windows cut because the RTT rose
	// above the baseline by Config.CongestionDelay (no loss needed).
	DelayBackoffs atomic.Uint64
	BytesIn       atomic.Uint64
	BytesOut      atomic.Uint64
	Introductions atomic.Uint64 // IHellos for a client's peer ID answered with a redirect
	// UnknownPeers counts IHellos for peer IDs with no open session here.
	UnknownPeers atomic.Uint64
	// IntroductionsRefused counts IHellos over a rendezvous rate limit.
	IntroductionsRefused atomic.Uint64
	// Placed counts IHellos answered with a Redirect to another server
	// (Config.Place: load placement).
	Placed atomic.Uint64
	rtt    atomic.Int64 // the latest smoothed RTT of any session, ns
}

// StatsSnapshot is a copy of Stats.
type StatsSnapshot struct {
	Sessions                                      int64
	HandshakesOK, HandshakesRefused, Malformed    uint64
	Retransmissions, Abandoned, BytesIn, BytesOut uint64
	DelayBackoffs                                 uint64
	Introductions, UnknownPeers                   uint64
	IntroductionsRefused                          uint64
	RTTNanos                                      int64
}

// Snapshot copies the counters.
func (st *Stats) Snapshot() StatsSnapshot {
	return StatsSnapshot{
		Sessions: st.Sessions.Load(), HandshakesOK: st.HandshakesOK.Load(), HandshakesRefused: st.HandshakesRefused.Load(),
		Malformed: st.Malformed.Load(), Retransmissions: st.Retransmissions.Load(), Abandoned: st.Abandoned.Load(),
		BytesIn: st.BytesIn.Load(), BytesOut: st.BytesOut.Load(), RTTNanos: st.rtt.Load(),
		Introductions: st.Introductions.Load(), UnknownPeers: st.UnknownPeers.Load(),
		IntroductionsRefused: st.IntroductionsRefused.Load(), DelayBackoffs: st.DelayBackoffs.Load(),
	}
}

func (st *Stats) add(c *atomic.Uint64, n uint64) { c.Add(n) }
