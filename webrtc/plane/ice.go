package plane

import (
	"net/netip"
	"strings"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/stun/v4"
)

// stunPacket takes a STUN datagram: a peer's connectivity check, or the
// answer to one of a dialling session's.
func (p *Plane) stunPacket(sock *socket, b []byte, from netip.AddrPort) {
	m := &stun.Message{Raw: b}
	if err := m.Decode(); err != nil {
		p.Stats.BadChecks.Add(1)
		return
	}
	switch m.Type {
	case stun.BindingRequest:
		p.answerCheck(sock, m, from)
	case stun.BindingSuccess:
		p.checkAnswered(sock, m, from)
	default:
		p.Stats.BadChecks.Add(1)
	}
}

// answerCheck answers a check whose USERNAME names one of our sessions
// ("OURS:THEIRS") and whose MESSAGE-INTEGRITY its password signed
// (RFC 8445 §7.3); anything else gets no answer, so a scan learns
// nothing. The answer is the check's source (XOR-MAPPED-ADDRESS), signed
// the same way.
func (p *Plane) answerCheck(sock *socket, m *stun.Message, from netip.AddrPort) {
	var u stun.Username
	if err := u.GetFrom(m); err != nil {
		p.Stats.BadChecks.Add(1)
		return
	}
	ours, theirs, _ := strings.Cut(string(u), ":")
	p.mu.RLock()
	s := p.byUfrag[ours]
	p.mu.RUnlock()
	if s == nil || !s.started.Load() || theirs != s.remote.Ufrag ||
		stun.NewShortTermIntegrity(s.local.Pwd).Check(m) != nil || stun.Fingerprint.Check(m) != nil {
		p.Stats.BadChecks.Add(1)
		return
	}
	if !s.checked(sock, from, m.Contains(stun.AttrUseCandidate)) {
		p.Stats.BadChecks.Add(1) // the session ended, or from a live session's address
		return
	}
	resp, err := stun.Build(stun.NewTransactionIDSetter(m.TransactionID), stun.BindingSuccess,
		&stun.XORMappedAddress{IP: from.Addr().AsSlice(), Port: int(from.Port())},
		stun.NewShortTermIntegrity(s.local.Pwd), stun.Fingerprint)
	if err != nil {
		return
	}
	if err := sock.writeTo(resp.Raw, from); err != nil {
		p.cfg.Log.Debug("webrtc plane: answer check", "err", err)
	}
}

// checkAnswered takes the answer to a dialling session's check: its
// transaction ID must be one in flight, from the address it was sent to,
// signed with the peer's password.
func (p *Plane) checkAnswered(sock *socket, m *stun.Message, from netip.AddrPort) {
	p.mu.RLock()
	tx, ok := p.byTx[m.TransactionID]
	p.mu.RUnlock()
	if !ok || tx.to != from || stun.NewShortTermIntegrity(tx.s.remote.Pwd).Check(m) != nil || stun.Fingerprint.Check(m) != nil {
		p.Stats.BadChecks.Add(1)
		return
	}
	// Forgotten only once answered: a forged answer (wrong source, no
	// signature) must not cancel the check it names.
	p.mu.Lock()
	delete(p.byTx, m.TransactionID)
	p.mu.Unlock()
	if !tx.s.checked(sock, from, true) {
		p.Stats.BadChecks.Add(1)
	}
}

// txEntry is a dialling session's check in flight.
type txEntry struct {
	s  *Session
	to netip.AddrPort
}

// sendChecks sends one nominating check to each candidate (the dialling
// side is the controlling agent and nominates at once: RFC 8445 §8.1.1,
// aggressive nomination's effect with an ICE-lite peer). The previous
// round's transactions are forgotten.
func (s *Session) sendChecks() {
	s.lastSent.Store(time.Now().UnixNano())
	sock := s.p.socks[0]
	if r := s.path.Load(); r != nil {
		sock = r.sock
	}
	s.mu.Lock()
	old := s.txs
	s.txs = nil
	s.mu.Unlock()
	s.p.mu.Lock()
	for _, tx := range old {
		delete(s.p.byTx, tx)
	}
	s.p.mu.Unlock()
	for _, to := range s.cands {
		m, err := stun.Build(stun.TransactionID, stun.BindingRequest,
			stun.NewUsername(s.remote.Ufrag+":"+s.local.Ufrag),
			ice.PriorityAttr(0x6e0001ff), ice.AttrControlling(s.tie), ice.UseCandidate(),
			stun.NewShortTermIntegrity(s.remote.Pwd), stun.Fingerprint)
		if err != nil {
			continue
		}
		s.p.mu.Lock()
		if s.p.byUfrag[s.local.Ufrag] != s { // closed
			s.p.mu.Unlock()
			return
		}
		s.p.byTx[m.TransactionID] = txEntry{s: s, to: to}
		s.p.mu.Unlock()
		s.mu.Lock()
		s.txs = append(s.txs, m.TransactionID)
		s.mu.Unlock()
		if err := sock.writeTo(m.Raw, to); err != nil {
			s.p.cfg.Log.Debug("webrtc plane: send check", "to", to, "err", err)
		}
	}
}
