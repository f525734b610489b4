package call

import (
	"slices"
	"strings"
	"sync/atomic"
)

// ModeP2P: the parties (both on RTMFP, both reported peer IDs) play each
// other's stream over a direct session; the relay names stay valid as the
// fallback (P2PFailed).
const ModeP2P = "p2p"

// EvMedia tells both parties that the call's media mode changed (mode): a
// peer-to-peer call that fell back to relay (reason ReasonP2PFailed).
const EvMedia = "media"

// ReasonP2PFailed: the media event's reason when a party could not reach
// the other directly (p2pFailed) and the call went to relay.
const ReasonP2PFailed = "p2p_failed"

// Stats are the call service's counters, for metrics.
type Stats struct {
	P2PCalls     atomic.Uint64 // calls answered in p2p mode
	P2PFallbacks atomic.Uint64 // p2p calls switched to relay (p2pFailed)
}

// Stats returns the service's counters.
func (s *Service) Stats() *Stats { return &s.stats }

// SetDirect marks d as able to carry a call's media peer to peer (its
// transport is RTMFP): a call is p2p only when both devices are.
func (s *Service) SetDirect(d *Device) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d.SetDirect()
}

// modeLocked decides an answered call's media mode: p2p when p2p is not
// disabled, both parties' devices are direct, both reported peer IDs and
// neither user is under the no-p2p policy; relay otherwise.
// Two web pages that both reported PeerWebRTC are a direct pair too
// (signal.go): they try a direct WebRTC connection.
func (s *Service) modeLocked(c *Call, callee *Device) string {
	if s.opts.DisableP2P || c.ext != extNone || c.callerPeer == "" || c.calleePeer == "" {
		return ModeRelay
	}
	caller := s.users[c.From].Device(c.callerDevice)
	if caller == nil || slices.Contains(s.opts.NoP2P, c.From) || slices.Contains(s.opts.NoP2P, c.To) {
		return ModeRelay
	}
	if !(caller.Direct() && callee.Direct()) && !browserPair(c, caller, callee) {
		return ModeRelay
	}
	s.stats.P2PCalls.Add(1)
	return ModeP2P
}

// P2PFailed switches an established p2p call to relay: a party could not
// reach the other directly. Both parties get a media event with mode
// relay and then publish and play the names they were issued through the
// server. A call already in relay mode is left as it is.
func (s *Service) P2PFailed(d *Device, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.activePartyCall(d, id)
	if err != nil {
		return err
	}
	if c.mode != ModeP2P {
		return nil
	}
	c.mode, c.fellBack = ModeRelay, true
	s.stats.P2PFallbacks.Add(1)
	s.log.Info("p2p failed: relaying", "call", c.ID, "by", d.User)
	e := Event{Type: EvMedia, Call: c.ID, From: c.From, To: c.To, Mode: ModeRelay, Reason: ReasonP2PFailed, By: d.User}
	now := s.opts.Now()
	s.tellLocked(c, c.From, now, e)
	s.tellLocked(c, c.To, now, e)
	return nil
}

// P2PPeers reports whether peer IDs a and b are the two parties of an
// answered call in p2p mode: the only introduction the rendezvous makes
// under rtmfp.rendezvous: calls. Peer IDs are those the parties reported;
// the rendezvous compares them with the initiator's real session, so a
// party that lies only fails its own call's introduction.
func (s *Service) P2PPeers(a, b string) bool {
	if a == "" || b == "" || a == PeerWebRTC || b == PeerWebRTC { // pages meet through signal.go, not the rendezvous
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.calls {
		if c.state == stateActive && c.mode == ModeP2P &&
			((strings.EqualFold(c.callerPeer, a) && strings.EqualFold(c.calleePeer, b)) ||
				(strings.EqualFold(c.callerPeer, b) && strings.EqualFold(c.calleePeer, a))) {
			return true
		}
	}
	return false
}

// Mode is the media mode of call id (p2p or relay), "" when there is no
// such established call.
func (s *Service) Mode(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.calls[id]; c != nil {
		return c.mode
	}
	return ""
}
