package rtmfp

import (
	"encoding/hex"
	"net/netip"
	"time"

	"github.com/flashvox/flashvox/rtmfp/wire"
)

// Rate-limiter kinds (Server.allow).
const (
	rateHello = iota
	rateKeying
	rateIntro
	rateKinds
)

// introAddrs orders a target's addresses for an initiator at from: the
// observed (public) address first, so that hole punching starts where it
// works across NATs; but when both share that public address they are
// behind the same NAT, so the reported (private) ones come first.
func introAddrs(from, observed netip.AddrPort, reported []netip.AddrPort) []wire.Address {
	out := make([]wire.Address, 0, 1+len(reported))
	for _, a := range reported {
		if a != observed {
			out = append(out, wire.Address{Addr: a, Origin: wire.OriginReported})
		}
	}
	obs := wire.Address{Addr: observed, Origin: wire.OriginObserved}
	if from.Addr() == observed.Addr() {
		return append(out, obs)
	}
	return append([]wire.Address{obs}, out...)
}

// registerPeer makes a session reachable by its fingerprint (its peer ID)
// for introductions; called once it has sent setPeerInfo. The newest open
// session of a peer ID wins.
func (s *Server) registerPeer(ss *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions[ss.rxID] == ss {
		s.byPeerID[ss.far] = ss
	}
}

// introduce answers an IHello for a peer ID that is not ours (rendezvous,
// RFC 7016 §3.5.1.5). For one of our clients: a Redirect to the initiator
// with the target's addresses, and the IHello forwarded to the target
// (FIHello) so it answers the initiator directly (hole punching). For an
// unknown one: a Redirect to Config.RedirectServers, or silence. The
// initiator's address and the target's session are each rate-limited, and
// only an open session is introduced.
func (s *Server) introduce(epd, tag, fp []byte, addr netip.AddrPort, now time.Time) {
	var id [32]byte
	copy(id[:], fp)
	s.mu.Lock()
	target := s.byPeerID[id]
	var initiator string
	if is := s.byAddr[addr]; is != nil && s.Config.Introduce != nil {
		initiator = hex.EncodeToString(is.far[:])
	}
	s.mu.Unlock()
	if !s.allow(now, addr.Addr(), rateIntro) {
		s.stats.IntroductionsRefused.Add(1)
		return
	}
	if target == nil {
		s.stats.UnknownPeers.Add(1)
		if len(s.Config.RedirectServers) > 0 {
			r := wire.Redirect{Tag: tag}
			for _, a := range s.Config.RedirectServers {
				r.Addrs = append(r.Addrs, wire.Address{Addr: a, Origin: wire.OriginRelay})
			}
			s.sendStartup(now, 0, wire.ChunkRedirect, r.AppendTo(nil), addr)
		}
		return
	}
	if s.Config.Introduce != nil && !s.Config.Introduce(initiator, hex.EncodeToString(id[:])) {
		s.stats.IntroductionsRefused.Add(1)
		return
	}
	target.mu.Lock()
	defer target.mu.Unlock()
	if target.state != stateOpen {
		s.stats.UnknownPeers.Add(1)
		return
	}
	if sec := now.Unix(); sec != target.introSec {
		target.introSec, target.introN = sec, 0
	}
	if target.introN >= s.Config.IntroductionsPerPeer {
		s.stats.IntroductionsRefused.Add(1)
		return
	}
	target.introN++
	// Counted before the sends: the initiator can finish its direct
	// session (and look at the metrics) before this goroutine resumes.
	s.stats.Introductions.Add(1)
	r := wire.Redirect{Tag: tag, Addrs: introAddrs(addr, target.addr, target.peerAddrs)}
	s.sendStartup(now, 0, wire.ChunkRedirect, r.AppendTo(nil), addr)
	fi := wire.FIHello{EPD: epd, Addr: addr, Tag: tag}
	target.addChunk(now, wire.ChunkFIHello, fi.AppendTo(nil))
	target.flushPacket()
}

// place answers an IHello for this server with a Redirect to the servers
// Config.Place names (load placement), reporting whether it did: the
// client then sends its IHello there and keys with whichever answers.
func (s *Server) place(tag []byte, addr netip.AddrPort, now time.Time) bool {
	if s.Config.Place == nil {
		return false
	}
	to := s.Config.Place()
	if len(to) == 0 {
		return false
	}
	r := wire.Redirect{Tag: tag}
	for _, a := range to[:min(len(to), wire.MaxPeerAddrs)] {
		r.Addrs = append(r.Addrs, wire.Address{Addr: a, Origin: wire.OriginRelay})
	}
	s.stats.Placed.Add(1)
	s.sendStartup(now, 0, wire.ChunkRedirect, r.AppendTo(nil), addr)
	return true
}
