package sipbridge

import (
	"errors"
	"fmt"
	"net"
	"strconv"
)

// SIP over TLS (RFC 3261 26.2: SIP over TLS on TCP, transport=tls; 5061
// by convention) is served on o.TLSListen through guardStream. Its
// shadow transport has TLSURINoSIPS, which keeps our Contact a sip: URI
// with transport=tls rather than sips: (RFC 5630 3.3: sips: promises TLS
// on every hop, which a call bridged to UDP phones or trunks does not
// keep). diago writes the transport parameter only when the Contact host
// is the bind host, so behind public_address the Contact has none
// (phones then keep using the connection they opened).

// tlsListenAddr is o.TLSListen's host and port, a free port for port 0
// (resolved here, not by the stack, so that TLSAddr can report it).
func tlsListenAddr(o diagoOptions) (string, int, error) {
	if o.TLSConfig == nil {
		return "", 0, errors.New("sip: tls listen needs a certificate")
	}
	host, ps, err := net.SplitHostPort(o.TLSListen)
	if err != nil {
		return "", 0, fmt.Errorf("sip: tls listen %q: %w", o.TLSListen, err)
	}
	port, err := strconv.Atoi(ps)
	if err != nil {
		return "", 0, fmt.Errorf("sip: tls listen %q: bad port", o.TLSListen)
	}
	if port == 0 {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return "", 0, fmt.Errorf("sip: tls listen %q: %w", o.TLSListen, err)
		}
		port = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
	}
	return host, port, nil
}

// listenHostPort resolves port 0 to one free for both UDP and TCP (the
// same port for both is what phones expect).
func listenHostPort(addr string) (string, int, error) {
	host, ps, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("sip: listen %q: %w", addr, err)
	}
	port, err := strconv.Atoi(ps)
	if err != nil {
		return "", 0, fmt.Errorf("sip: listen %q: bad port", addr)
	}
	if port != 0 {
		return host, port, nil
	}
	for range 20 {
		pc, err := net.ListenPacket("udp", net.JoinHostPort(host, "0"))
		if err != nil {
			return "", 0, fmt.Errorf("sip: listen %q: %w", addr, err)
		}
		p := pc.LocalAddr().(*net.UDPAddr).Port
		ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p)))
		pc.Close()
		if err == nil {
			ln.Close()
			return host, p, nil
		}
	}
	return "", 0, fmt.Errorf("sip: listen %q: no port free for both UDP and TCP", addr)
}
