package webrtc

import (
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"

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

// setLinks adds the ICE servers' Link headers to h.
func (s *Server) setLinks(h http.Header) {
	for _, u := range s.links {
		h.Add("Link", "<"+u+`>; rel="ice-server"`)
	}
}
