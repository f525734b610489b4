package call

import (
	"fmt"
	"time"
)

// Browser-to-browser calls. A web page that can carry a call's media
// over WebRTC reports PeerWebRTC as its peer ID when it invites or
// accepts; a call answered between two such pages (both HTTP devices,
// p2p not disabled, neither user under no_p2p) is ModeP2P. The pages then
// exchange their offer, answer and ICE candidates through Signal, which
// writes each to the other party's event log (EvSignal), and try a direct
// PeerConnection; a page that is not connected in time reports it
// (P2PFailed) and both relay through the server (WHIP/WHEP on the issued
// names, which stay valid for the whole call).

// PeerWebRTC is the peer ID a web page reports when it can try a direct
// WebRTC connection.
const PeerWebRTC = "webrtc"

// EvSignal carries a page's WebRTC offer, answer or candidate (Signal,
// JSON) to the other party of a browser p2p call; By is the sender.
const EvSignal = "signal"

// Signalling bounds, per party and call: a page sends one offer or answer
// and a handful of candidates, so these only stop a flood.
const (
	MaxSignalBytes = 16 << 10 // one message (an SDP with its candidates fits)
	maxSignals     = 100      // messages in one call
	signalBurst    = 20       // messages at once…
	signalPerSec   = 10       // …then this many a second
)

// signalBudget is a token bucket and a total for one party's signals.
type signalBudget struct {
	sent   int
	tokens float64
	last   time.Time
}

// take spends one message at now, or reports that the party is over its
// rate or total.
func (b *signalBudget) take(now time.Time) bool {
	if b.last.IsZero() {
		b.tokens = signalBurst
	} else {
		b.tokens = min(signalBurst, b.tokens+now.Sub(b.last).Seconds()*signalPerSec)
	}
	b.last = now
	if b.sent >= maxSignals || b.tokens < 1 {
		return false
	}
	b.tokens--
	b.sent++
	return true
}

// browserPair reports whether the call is between two web pages that both
// offered a direct WebRTC connection.
func browserPair(c *Call, caller, callee *Device) bool {
	return caller.Kind == KindHTTP && callee.Kind == KindHTTP && c.callerPeer == PeerWebRTC && c.calleePeer == PeerWebRTC
}

// Signal passes data (a page's WebRTC offer, answer or candidate, JSON
// the caller validated) from d's user to the other party of call id. Only
// an answered call in p2p mode between two pages carries signals: after a
// fallback to relay nothing more is passed, so the parties' addresses
// stay with the server. ErrSignalLimit refuses a flood.
func (s *Service) Signal(d *Device, id, data string) error {
	if data == "" || len(data) > MaxSignalBytes {
		return ErrBadSignal
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.activePartyCall(d, id)
	if err != nil {
		return err
	}
	if c.mode != ModeP2P || c.callerPeer != PeerWebRTC || c.calleePeer != PeerWebRTC {
		return fmt.Errorf("%w: the call is not a direct call between two pages", ErrState)
	}
	i, other := 0, c.To
	if d.User == c.To {
		i, other = 1, c.From
	}
	now := s.opts.Now()
	if !c.sig[i].take(now) {
		return ErrSignalLimit
	}
	s.tellLocked(c, other, now, Event{Type: EvSignal, Call: c.ID, From: c.From, To: c.To, By: d.User, Signal: data})
	return nil
}
