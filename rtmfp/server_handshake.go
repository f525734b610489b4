package rtmfp

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/flashvox/flashvox/rtmfp/wire"
)

// The responder's side of the handshake (RFC 7016 §3.5.1): stateless
// until the initiator's IIKeying brings our cookie back.

// startup handles a handshake packet (session ID 0, default key).
func (s *Server) startup(d []byte, addr netip.AddrPort, now time.Time) {
	plain, err := s.hs.Open(s.plain, d)
	if err == nil {
		err = s.pkt.Unmarshal(plain)
	}
	if err == nil && s.pkt.Mode() != wire.ModeStartup {
		err = wire.ErrBadMode
	}
	if err != nil {
		s.bad(now, addr, err)
		return
	}
	for _, c := range s.pkt.Chunks {
		switch c.Type {
		case wire.ChunkIHello:
			s.onIHello(c.Value, addr, now)
			return
		case wire.ChunkIIKeying:
			s.onIIKeying(c.Value, addr, now)
			return
		}
	}
}

func (s *Server) onIHello(b []byte, addr netip.AddrPort, now time.Time) {
	var h wire.IHello
	var e wire.EPD
	if err := h.Unmarshal(b); err != nil || len(h.Tag) > wire.MaxTagLen || e.Unmarshal(h.EPD) != nil {
		s.bad(now, addr, wire.ErrBadOption)
		return
	}
	if !s.id.Selects(&e) {
		if len(e.Fingerprint) == 32 {
			s.introduce(h.EPD, h.Tag, e.Fingerprint, addr, now)
		}
		return
	}
	if !s.allow(now, addr.Addr(), rateHello) {
		s.stats.HandshakesRefused.Add(1)
		return
	}
	if s.place(h.Tag, addr, now) {
		return
	}
	r := wire.RHello{Tag: h.Tag, Cookie: s.cookies.Make(now, addr), Cert: s.id.Cert}
	s.sendStartup(now, 0, wire.ChunkRHello, r.AppendTo(nil), addr)
}

func (s *Server) onIIKeying(b []byte, addr netip.AddrPort, now time.Time) {
	var k wire.IIKeying
	if err := k.Unmarshal(b); err != nil {
		s.bad(now, addr, err)
		return
	}
	switch s.cookies.Check(now, k.Cookie, addr) {
	case wire.CookieBad:
		s.stats.HandshakesRefused.Add(1)
		return
	case wire.CookieMismatch:
		cc := wire.CookieChange{Old: k.Cookie, New: s.cookies.Make(now, addr)}
		s.sendStartup(now, k.SessionID, wire.ChunkCookieChange, cc.AppendTo(nil), addr)
		return
	}
	s.mu.Lock()
	old := s.byAddr[addr]
	full := len(s.sessions) >= s.Config.MaxSessions || s.perIP[addr.Addr()] >= s.Config.MaxSessionsPerIP
	s.mu.Unlock()
	if old != nil {
		old.mu.Lock()
		again := old.txID == k.SessionID && string(old.skic) == string(k.SKIC)
		rik, sameCert := old.rikeying, string(old.farCert) == string(k.Cert)
		// A session that is closing, or has heard nothing for a while, no
		// longer owns its address: a new endpoint may be there now (a
		// client that restarted on the same port, a NAT reusing a port).
		stale := old.state != stateOpen || now.Sub(old.lastRecv) > staleAddrAfter
		old.mu.Unlock()
		if again {
			s.sendStartup(now, k.SessionID, wire.ChunkRIKeying, rik, addr)
			return
		}
		if !sameCert && !stale {
			s.stats.HandshakesRefused.Add(1)
			return // another endpoint cannot be at a live session's address
		}
		old.mu.Lock()
		old.abort(ErrClosed) // the same peer started over, or the address changed hands
		old.mu.Unlock()
		s.remove(old)
	}
	if full {
		s.stats.HandshakesRefused.Add(1)
		s.refusals.Log(slog.LevelWarn, "rtmfp_max_sessions", "rtmfp session refused: max_sessions or max_sessions_per_ip", "addr", addr.String())
		return
	}
	if !s.allow(now, addr.Addr(), rateKeying) {
		s.stats.HandshakesRefused.Add(1)
		s.refusals.Log(slog.LevelWarn, "rtmfp_keying_rate", "rtmfp keying refused: handshakes per second", "addr", addr.String())
		return
	}
	cert, err := wire.ParsePeerCert(k.Cert)
	if err != nil {
		s.stats.HandshakesRefused.Add(1)
		return
	}
	skrc, keys, err := wire.RespondKeying(k.SKIC, cert, s.Config.Policy)
	if err != nil {
		s.stats.HandshakesRefused.Add(1)
		s.log.Debug("keying refused", "addr", addr.String(), "err", err)
		return
	}
	ss := s.register(addr, k.SessionID, keys, now, func(ss *session) {
		ss.skic = append([]byte(nil), k.SKIC...)
		ss.farCert = append([]byte(nil), k.Cert...)
		ss.far, ss.near = cert.Fingerprint, s.id.Fingerprint
		ss.rikeying = (&wire.RIKeying{SessionID: ss.rxID, SKRC: skrc, Signature: []byte{'X'}}).AppendTo(nil)
	})
	s.stats.HandshakesOK.Add(1)
	s.sendStartup(now, k.SessionID, wire.ChunkRIKeying, ss.rikeying, addr)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.Handler.ServeRTMFP(s.ctx, ss.conn)
		_ = ss.conn.Close()
	}()
}

// register creates a responder session, lets fill set what the handshake
// learnt and records it (only then do other goroutines see it).
func (s *Server) register(addr netip.AddrPort, txID uint32, keys wire.SessionKeys, now time.Time, fill func(*session)) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	var rx uint32
	for rx == 0 || s.sessions[rx] != nil {
		var b [4]byte
		_, _ = rand.Read(b[:])
		rx = binary.BigEndian.Uint32(b[:])
	}
	log := s.log.With("session", fmt.Sprintf("%08x", rx), "remote", addr.String())
	ss := newSession(s, wire.ModeResponder, rx, txID, addr, keys, s.Config.responderLimits(), &s.stats, log, now)
	ss.fl = s.fl
	fill(ss)
	s.sessions[rx] = ss
	s.byAddr[addr] = ss
	select {
	case s.busy <- struct{}{}:
	default:
	}
	s.perIP[addr.Addr()]++
	s.stats.Sessions.Add(1)
	log.Debug("session open", "hmac", keys.Crypto.HMACTx != nil, "seq", keys.Crypto.SeqTx)
	return ss
}

// sendStartup sends one handshake chunk with the default key.
func (s *Server) sendStartup(now time.Time, ssid uint32, typ uint8, body []byte, addr netip.AddrPort) {
	p := wire.AppendHeader(make([]byte, 0, 3+len(body)+8), wire.Header{Flags: wire.ModeStartup | wire.FlagTimestamp, Timestamp: uint16(now.Sub(s.start) / (wire.TimestampPeriodMs * time.Millisecond))})
	p = wire.AppendChunk(p, typ, body)
	out := s.hs.Seal(make([]byte, 0, len(p)+64), ssid, p)
	s.writeTo(out, addr)
	s.stats.BytesOut.Add(uint64(len(out)))
}
