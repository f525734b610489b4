package webrtc

import (
	"fmt"
	"net"

	"github.com/flashvox/flashvox/webrtc/plane"
	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// udpMux is the one UDP socket every session's ICE shares when
// Options.UDPMuxPort is set (pion's ICE UDP mux): bound to the ICE
// address only, so the sessions' host candidates are that address and
// port (or the public IPs' NAT 1:1 rewrite of it). pion routes each
// datagram by its source address once ICE has seen it, and a STUN
// request from a new address by the USERNAME's local ufrag (which only
// the session's answer gave out); anything else is dropped, and a
// request naming a session still has to pass that session's
// MESSAGE-INTEGRITY (its ICE password) before ICE pairs the address.
type udpMux struct {
	mux  *ice.UDPMuxDefault
	addr *net.UDPAddr
}

// udpMuxReadBuffer is the shared socket's receive buffer: about 10 000
// audio packets.
const udpMuxReadBuffer = 4 << 20

// openUDPMux binds ip:port and puts pion's mux on it.
func openUDPMux(ip net.IP, port uint16) (*udpMux, error) {
	network := "udp4"
	if ip.To4() == nil {
		network = "udp6"
	}
	conn, err := net.ListenUDP(network, &net.UDPAddr{IP: ip, Port: int(port)})
	if err != nil {
		return nil, fmt.Errorf("webrtc: ICE UDP mux on %s port %d: %w", ip, port, err)
	}
	// One socket takes every session's packets: give it the receive
	// buffer of many (the system's net.core.rmem_max caps it), or a
	// burst while its one reader waits for a core overflows it.
	_ = conn.SetReadBuffer(udpMuxReadBuffer)
	m := ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: conn, Logger: plane.QuietLogs().NewLogger("udpmux")})
	return &udpMux{mux: m, addr: conn.LocalAddr().(*net.UDPAddr)}, nil
}

// use makes s's sessions gather their one host candidate from the mux.
func (u *udpMux) use(s *webrtc.SettingEngine) { s.SetICEUDPMux(u.mux) }

func (u *udpMux) close() { _ = u.mux.Close() }

// UDPMuxAddr is the shared ICE socket's address, nil when every session
// has its own (Options.UDPMuxPort 0).
func (s *Server) UDPMuxAddr() *net.UDPAddr {
	if s.umux == nil {
		return nil
	}
	return s.umux.addr
}
