package webrtc

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/pion/stun/v4"
)

// startSTUN opens the built-in STUN server (Options.STUNListen) and makes
// the Link headers every answer carries (RFC 9725 §4.6): the built-in
// server, as the address browsers reach (the first public IP, else the
// ICE address) with its port, then Options.ICEServers as given.
func (s *Server) startSTUN() error {
	for _, u := range s.o.ICEServers {
		uri, err := stun.ParseURI(u)
		if err != nil {
			return fmt.Errorf("webrtc: ICE server %q: %w", u, err)
		}
		if uri.Scheme != stun.SchemeTypeSTUN && uri.Scheme != stun.SchemeTypeSTUNS {
			// TURN needs credentials, which are not issued yet.
			return fmt.Errorf("webrtc: ICE server %q: only stun: and stuns: URLs are advertised", u)
		}
	}
	if s.o.STUNListen != "" {
		st, err := listenSTUN(s.o.STUNListen, &s.Stats, s.o.Logger.With("component", "stun"))
		if err != nil {
			return err
		}
		s.stun = st
		host := s.o.ICEAddress
		if ips := s.o.publicIPs(); len(ips) > 0 {
			host = ips[0]
		}
		s.links = append(s.links, "stun:"+net.JoinHostPort(host, strconv.Itoa(st.addr().Port)))
	}
	s.links = append(s.links, s.o.ICEServers...)
	return nil
}

// STUNAddr is the built-in STUN server's socket address, nil when off.
func (s *Server) STUNAddr() *net.UDPAddr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stun == nil {
		return nil
	}
	return s.stun.addr()
}

// ICEServers are the URLs every answer's Link headers advertise (the
// built-in STUN server first), for pages that configure their
// RTCPeerConnections before any answer (GET /page.json).
func (s *Server) ICEServers() []string { return slices.Clone(s.links) }

// setLinks adds the ICE servers' Link headers to h, and TURN credentials
// named for turnID unless it is "" (or TURN is off).
func (s *Server) setLinks(h http.Header, turnID string) {
	for _, u := range s.links {
		h.Add("Link", "<"+u+`>; rel="ice-server"`)
	}
	if s.turn == nil || turnID == "" {
		return
	}
	ls, err := s.turn.links(turnID)
	if err != nil {
		return
	}
	for _, l := range ls {
		h.Add("Link", l)
	}
}

// optionsTURN is the credentials' name for an OPTIONS request (RFC 9725
// §4.6: a client asks before it makes its PeerConnection), "" when TURN
// is off or the request does not pass Access as the POST would: TURN
// credentials only for those who may publish or play here.
func (s *Server) optionsTURN(r *http.Request, publish bool) string {
	if s.turn == nil {
		return ""
	}
	req := Request{App: r.PathValue("app"), Name: r.PathValue("name"), Publish: publish, Query: r.URL.RawQuery, Addr: clientIP(r), Context: r.Context()}
	if b, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		req.Bearer = strings.TrimSpace(b)
	}
	if _, err := s.o.Access.Authorize(req); err != nil {
		return ""
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
