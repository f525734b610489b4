package rtmfp

import (
	"crypto/sha256"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/flashvox/flashvox/rtmfp/wire"
)

// clientHS is the state of one initiator handshake: the hello sent to the
// server (and to the addresses it redirects to), then the keying with the
// first responder whose certificate fits.
type clientHS struct {
	c       *client
	want    *[sha256.Size]byte // the peer asked for; nil: the server
	tag     []byte
	hello   []byte
	rxID    uint32 // our session id
	keying  *wire.InitiatorKeying
	rc      *wire.PeerCert
	ik      []byte           // IIKeying body once RHello came
	dst     netip.AddrPort   // who answered the hello
	targets []netip.AddrPort // where hellos go
}

// onChunk handles one handshake chunk: the session when keying finished,
// an error that ends the handshake, or whether the keying was (re)sent.
func (h *clientHS) onChunk(ch wire.Chunk, p hsPacket) (s *session, resent bool, err error) {
	switch ch.Type {
	case wire.ChunkRedirect:
		var r wire.Redirect
		if h.ik != nil || r.Unmarshal(ch.Value) != nil || string(r.Tag) != string(h.tag) {
			return nil, false, nil
		}
		for _, a := range r.Addrs {
			if !slices.Contains(h.targets, a.Addr) && len(h.targets) < wire.MaxPeerAddrs && a.Addr.IsValid() {
				h.targets = append(h.targets, a.Addr)
				h.c.sendStartup(0, wire.ChunkIHello, h.hello, a.Addr)
			}
		}
	case wire.ChunkRHello:
		sent, err := h.onRHello(ch, p.from)
		return nil, sent, err
	case wire.ChunkCookieChange:
		var cc wire.CookieChange
		var k wire.IIKeying
		if h.ik == nil || p.from != h.dst || cc.Unmarshal(ch.Value) != nil || k.Unmarshal(h.ik) != nil || string(cc.Old) != string(k.Cookie) {
			return nil, false, nil
		}
		k.Cookie = cc.New
		h.ik = k.AppendTo(nil)
		h.c.sendStartup(0, wire.ChunkIIKeying, h.ik, h.dst)
	case wire.ChunkRIKeying:
		return h.onRIKeying(ch, p)
	}
	return nil, false, nil
}

// onRHello starts the keying with the responder whose certificate fits.
func (h *clientHS) onRHello(ch wire.Chunk, from netip.AddrPort) (sent bool, err error) {
	var rh wire.RHello
	if h.ik != nil || rh.Unmarshal(ch.Value) != nil || string(rh.Tag) != string(h.tag) {
		return false, nil
	}
	cert, err := wire.ParsePeerCert(rh.Cert)
	if err != nil {
		if h.want != nil {
			return false, nil
		}
		return false, fmt.Errorf("rtmfp: server certificate: %w", err)
	}
	if h.want != nil && cert.Fingerprint != *h.want {
		return false, nil // not the peer we asked for
	}
	k, err := wire.NewInitiatorKeying(cert, h.c.cfg.Policy)
	if err != nil {
		return false, fmt.Errorf("rtmfp: %w", err)
	}
	h.rc, h.keying, h.dst = cert, k, from
	h.ik = (&wire.IIKeying{SessionID: h.rxID, Cookie: rh.Cookie, Cert: h.c.id.Cert, SKIC: k.SKIC, Signature: []byte{'X'}}).AppendTo(nil)
	h.c.sendStartup(0, wire.ChunkIIKeying, h.ik, h.dst)
	return true, nil
}

// onRIKeying finishes the keying and opens the session.
func (h *clientHS) onRIKeying(ch wire.Chunk, p hsPacket) (*session, bool, error) {
	var rk wire.RIKeying
	if h.keying == nil || p.ssid != h.rxID || p.from != h.dst || rk.Unmarshal(ch.Value) != nil || rk.SessionID == 0 {
		return nil, false, nil
	}
	keys, err := h.keying.Finish(rk.SKRC, h.rc)
	if err != nil {
		return nil, false, fmt.Errorf("rtmfp: keying: %w", err)
	}
	c := h.c
	log := c.log.With("session", fmt.Sprintf("%08x", h.rxID), "remote", h.dst.String())
	s := newSession(c, wire.ModeInitiator, h.rxID, rk.SessionID, h.dst, keys, c.cfg.limits(), &c.stats, log, time.Now())
	s.far, s.near = h.rc.Fingerprint, c.id.Fingerprint
	s.closeWait = clientLinger
	s.mu.Lock()
	s.conn.initiator = true
	s.conn.control = s.openSendFlow(tcMetadata(0), 0, false, 1, 0)
	s.mu.Unlock()
	c.mu.Lock()
	c.sessions[h.rxID] = s
	c.mu.Unlock()
	c.stats.HandshakesOK.Add(1)
	return s, false, nil
}
