package webrtc

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/pion/rtp"

	"github.com/flashvox/flashvox/webrtc/plane"
)

// Engines: how sessions carry their media.
const (
	// EnginePion gives every session a pion PeerConnection (full ICE
	// agent, its own UDP socket unless UDPMuxPort).
	EnginePion = "pion"
	// EngineLite carries every session on the media plane (package
	// plane): ICE-lite, DTLS and SRTP of flashvox's own on one UDP port,
	// read in batches, each packet handled on the reader's goroutine.
	EngineLite = "lite"
)

// openPlane starts the media plane on ICEAddress:LitePort and works out
// the host candidates its answers give: the public IPs when set (a
// server behind 1:1 NAT), else the ICE address, else (bound to every
// interface) each interface's addresses.
func (s *Server) openPlane() error {
	o := &s.o
	switch {
	case o.UDPMuxPort != 0 || o.UDPPortMin != 0 || o.UDPPortMax != 0:
		return errors.New("webrtc: the lite engine has its one port (lite_port): no udp_mux_port or udp_ports")
	case len(o.STUNServers) > 0:
		return errors.New("webrtc: the lite engine gathers no server-reflexive candidates: name the public address (public_ip) instead of stun_servers")
	}
	ip, err := netip.ParseAddr(o.ICEAddress)
	if err != nil {
		return fmt.Errorf("webrtc: ICE address %q: %w", o.ICEAddress, err)
	}
	p, err := plane.Listen(plane.Config{Addr: netip.AddrPortFrom(ip, o.LitePort), Handshake: o.ConnectTimeout, Log: o.Logger})
	if err != nil {
		return fmt.Errorf("webrtc: lite engine: %w", err)
	}
	port := p.Addr().Port()
	var ips []netip.Addr
	for _, v := range o.publicIPs() {
		// Only the bound family's: an IPv4 socket is not reached at
		// the IPv6 address of a dual-stack 1:1 NAT (an unspecified
		// IPv6 address takes both).
		if a, err := netip.ParseAddr(v); err == nil && (a.Unmap().Is4() == ip.Unmap().Is4() || (ip.Is6() && ip.IsUnspecified())) {
			ips = append(ips, a.Unmap())
		}
	}
	if len(ips) == 0 && !ip.IsUnspecified() {
		ips = append(ips, ip)
	}
	if len(ips) == 0 {
		addrs, _ := net.InterfaceAddrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				if x, ok := netip.AddrFromSlice(n.IP); ok && !x.IsLinkLocalUnicast() && (ip.Is6() || x.Unmap().Is4()) {
					ips = append(ips, x.Unmap())
				}
			}
		}
	}
	for _, a := range ips {
		s.planeCands = append(s.planeCands, netip.AddrPortFrom(a, port))
	}
	s.plane = p
	// The port is the one a firewall must open (0 in the configuration
	// picks it anew at each start).
	o.Logger.Info("webrtc media plane", "engine", EngineLite, "addr", p.Addr(), "candidates", s.planeCands)
	return nil
}

// LiteAddr is the media plane's address, invalid unless the engine is lite.
func (s *Server) LiteAddr() netip.AddrPort {
	if s.plane == nil {
		return netip.AddrPort{}
	}
	return s.plane.Addr()
}

// PlaneStats are the media plane's drop counters, nil unless the engine
// is lite.
func (s *Server) PlaneStats() *plane.Stats {
	if s.plane == nil {
		return nil
	}
	return &s.plane.Stats
}

// startPlane answers offer on the media plane: the codec and
// telephone-event at the payload types the offer gave them, an
// ICE-lite answer with the plane's host candidates. A WHIP session's
// packets are published from the plane's reader; a WHEP session's
// player writes to the plane session once it is connected.
func (p *peerSession) startPlane(offer string, c rtpCodec, events bool) (string, error) {
	d, err := plane.ParseSDP(offer)
	if err != nil {
		return "", fmt.Errorf("%w: %v", errBadOffer, err)
	}
	if d.Audio < 0 {
		return "", fmt.Errorf("%w: no audio section", errBadOffer)
	}
	if d.Setup == "passive" {
		return "", fmt.Errorf("%w: the offer asks the server to be the DTLS client (a=setup:passive)", errBadOffer)
	}
	sec := d.Sections[d.Audio]
	// Our direction: what the session does, where the offer allows it
	// (RFC 3264 §6.1), else inactive.
	dir := "sendonly"
	if p.publish {
		dir = "recvonly"
		if sec.Direction == "recvonly" || sec.Direction == "inactive" {
			dir = "inactive"
		}
	} else if sec.Direction == "sendonly" || sec.Direction == "inactive" {
		dir = "inactive"
	}
	name := strings.TrimPrefix(c.cap.MimeType, "audio/") // "opus", "PCMU": as RFC 3551 and 7587 write them
	var f, ev plane.Format
	found, evOK := false, false
	for _, x := range sec.Formats {
		switch {
		case !found && strings.EqualFold(x.Name, name) && x.Clock == int(c.cap.ClockRate):
			f, found = x, true
		case events && !evOK && x.Name == "telephone-event" && x.Clock == int(c.cap.ClockRate):
			ev, evOK = x, true
		}
	}
	if !found {
		return "", fmt.Errorf("%w: %s not in the audio section", errBadOffer, name)
	}
	formats := []plane.Format{{PT: f.PT, Name: name, Clock: f.Clock, Channels: int(c.cap.Channels), Fmtp: c.cap.SDPFmtpLine}}
	if evOK {
		formats = append(formats, plane.Format{PT: ev.PT, Name: "telephone-event", Clock: ev.Clock, Fmtp: "0-15"})
	}
	onRTP := func(*rtp.Packet) {} // a WHEP player's own audio (sendrecv) is not used
	if p.publish {
		pub, err := p.publishKey()
		if err != nil {
			return "", err
		}
		onRTP = p.newWHIPIn(pub, negotiated{audio: f.PT, ev: ev.PT, evOK: evOK}).packet
	}
	ls, err := p.s.plane.NewSession(false, onRTP)
	if err != nil {
		return "", fmt.Errorf("webrtc: lite session: %w", err)
	}
	p.ls = ls
	ls.SetClockRate(c.cap.ClockRate) // the jitter its RTCP reports give
	if err := ls.Start(d.Remote, nil); err != nil {
		return "", fmt.Errorf("%w: %v", errBadOffer, err)
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	ssrc := binary.BigEndian.Uint32(b[:])
	var track *rtpTrack
	if !p.publish {
		track = newRTPTrack(c)
		ls.OnPeerReport(p.startPlayer(track).peerLoss) // the plane took the block's figures before
	}
	go p.followPlane(ls, track, ssrc, f.PT, ev.PT, evOK)
	return plane.WriteAnswer(plane.Answer{Offer: d, Local: ls.Local(), Fingerprint: p.s.plane.Fingerprint(),
		Direction: dir, Formats: formats, SSRC: ssrc, Candidates: p.s.planeCands}), nil
}

// followPlane binds a WHEP track once the plane session is connected and
// ends the session with the plane session (consent lapsed, DTLS closed,
// not connected in time).
func (p *peerSession) followPlane(ls *plane.Session, track *rtpTrack, ssrc uint32, pt, evPT uint8, evOK bool) {
	select {
	case <-ls.Connected():
		p.connected.Store(true)
		if track != nil {
			track.bindPlane(ls, ssrc, pt, evPT, evOK)
		}
		p.log.Debug("connection state", "state", "connected")
	case <-ls.Done():
	case <-p.done:
		return
	}
	select {
	case <-ls.Done():
		p.close(ls.Err().Error())
	case <-p.done:
	}
}
