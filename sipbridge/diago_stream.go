package sipbridge

import (
	"crypto/tls"
	"fmt"
	"net"
	"strconv"

	"github.com/emiago/diago"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/flashvox/flashvox/internal/connlimit"
)

// SIP over TCP and TLS accepts connections through our own listener
// (internal/connlimit: connections per address, an idle read deadline
// that closes half-sent requests), because sipgo's ListenAndServe makes
// its listener itself and sets no deadline on accepted connections.
// diago still needs a transport of each kind to write our Contact and
// Via and to dial: it gets one bound to a private loopback port (its own
// listener there is unused), advertising the public host:port, and the
// public port is served by sipgo's ServeTCP/ServeTLS on the guarded
// listener. Decision: this keeps diago and sipgo unpatched; the cost is
// one idle loopback listener per transport.

// streamGuard is a guarded public listener and diago's shadow transport.
type streamGuard struct {
	ln    net.Listener // the public, guarded listener (TLS wrapped for tls)
	tls   bool
	shade diago.Transport
}

// guardStream listens on host:port for network ("tcp" or "tls", conf for
// tls) through connlimit with lim, and returns diago's shadow transport
// advertising public (the host written in Contact; "" = host).
func guardStream(network, host string, port int, public string, conf *tls.Config, lim connlimit.Options) (*streamGuard, error) {
	raw, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("sip: listen %s %s: %w", network, net.JoinHostPort(host, strconv.Itoa(port)), err)
	}
	ln := connlimit.Listen(raw, lim)
	if network == "tls" {
		ln = tls.NewListener(ln, conf)
	}
	shadowHost := host
	ext := public
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		// The shadow must not be reachable from outside: loopback, and
		// the Contact names the interface diago would have picked.
		shadowHost = "127.0.0.1"
		if ext == "" {
			rip, _, err := sip.ResolveInterfacesIP("ip4", nil)
			if err != nil {
				raw.Close()
				return nil, fmt.Errorf("sip: contact address: %w", err)
			}
			ext = rip.String()
		}
	}
	if ext == "" {
		ext = host
	}
	free, err := net.Listen("tcp", net.JoinHostPort(shadowHost, "0"))
	if err != nil {
		raw.Close()
		return nil, fmt.Errorf("sip: shadow %s listener: %w", network, err)
	}
	shadowPort := free.Addr().(*net.TCPAddr).Port
	free.Close()
	t := diago.Transport{Transport: network, BindHost: shadowHost, BindPort: shadowPort, ExternalHost: ext, ExternalPort: port}
	if network == "tls" {
		t.TLSConf, t.TLSURINoSIPS = conf, true
	}
	if ip := net.ParseIP(public); ip != nil {
		t.MediaExternalIP = ip
	}
	return &streamGuard{ln: ln, tls: network == "tls", shade: t}, nil
}

// serve accepts the public connections into srv's transport layer until
// the listener is closed.
func (g *streamGuard) serve(srv *sipgo.Server) {
	if g.tls {
		_ = srv.ServeTLS(g.ln)
		return
	}
	_ = srv.ServeTCP(g.ln)
}
