package sipbridge

import (
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/emiago/diago"
)

// tlsTransport is diago's SIP-over-TLS listener on o.TLSListen (RFC 3261
// 26.2: SIP over TLS on TCP, transport=tls; 5061 by convention).
//
// TLSURINoSIPS keeps our Contact a sip: URI with transport=tls rather than
// sips: (RFC 5630 3.3: sips: promises TLS on every hop, which a call
// bridged to UDP phones or trunks does not keep). diago writes the
// transport parameter only when the Contact host is the bind host, so
// behind public_address the Contact has none (phones then keep using the
// connection they opened).
func tlsTransport(o diagoOptions) (diago.Transport, error) {
	if o.TLSConfig == nil {
		return diago.Transport{}, errors.New("sip: tls listen needs a certificate")
	}
	host, ps, err := net.SplitHostPort(o.TLSListen)
	if err != nil {
		return diago.Transport{}, fmt.Errorf("sip: tls listen %q: %w", o.TLSListen, err)
	}
	port, err := strconv.Atoi(ps)
	if err != nil {
		return diago.Transport{}, fmt.Errorf("sip: tls listen %q: bad port", o.TLSListen)
	}
	if port == 0 {
		// Resolved here, not by diago, so that TLSAddr can report it.
		ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return diago.Transport{}, fmt.Errorf("sip: tls listen %q: %w", o.TLSListen, err)
		}
		port = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
	}
	t := diago.Transport{Transport: "tls", BindHost: host, BindPort: port, TLSConf: o.TLSConfig, TLSURINoSIPS: true}
	if o.PublicAddress != "" {
		t.ExternalHost, t.ExternalPort = o.PublicAddress, port
		if ip := net.ParseIP(o.PublicAddress); ip != nil {
			t.MediaExternalIP = ip
		}
	}
	return t, nil
}

// listenHostPort resolves port 0 to one free for both UDP and TCP (diago
// binds each transport itself; the same port for both is what phones expect).
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
