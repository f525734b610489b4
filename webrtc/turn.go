package webrtc

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"slices"
	"sync/atomic"
	"time"

	"github.com/flashvox/flashvox/webrtc/plane"
	"github.com/pion/turn/v5"
)

// turnRealm is the realm of the built-in TURN server's credentials.
const turnRealm = "flashvox"

// DefaultTURNTTL is how long TURN credentials stay valid by default.
const DefaultTURNTTL = time.Hour

// DefaultTURNIdleTimeout closes a TURN/TCP or TURN/TLS connection that
// sends nothing for this long: a relay in use carries ICE consent checks
// every few seconds (RFC 7675), an allocation refreshes within minutes,
// and an idle connection holds a slot of the per-address bound.
const DefaultTURNIdleTimeout = 60 * time.Second

// turnRelay is the built-in TURN server (Options.TURNListen, over UDP;
// TURNTCPListen and TURNTLSListen, over TCP and TLS): a relay for
// browsers that cannot reach the server's media port over UDP directly.
// It relays to this server's own ICE addresses only (the permission
// handler refuses every other peer), so it cannot be used to reach anyone
// else. Credentials follow the TURN REST API convention: username
// "EXPIRY:ID", password base64(HMAC-SHA1(secret, username)), issued only
// in answers to requests that passed Access; one pair serves every
// transport.
type turnRelay struct {
	srv      *turn.Server
	udp      net.PacketConn // nil unless TURNListen
	tcp, tls *turnListener  // nil unless TURNTCPListen, TURNTLSListen
	secret   string
	ttl      time.Duration
	urls     []string // as clients reach them: turn:…?transport=udp, turn:…?transport=tcp, turns:…
}

// startTURN opens the TURN server when one of its listeners is set.
func (s *Server) startTURN() error {
	o := &s.o
	if o.TURNListen == "" && o.TURNTCPListen == "" && o.TURNTLSListen == "" {
		return nil
	}
	if o.TURNTLSListen != "" && o.TURNTLS == nil {
		return fmt.Errorf("webrtc: turn tls listen %s: no certificate", o.TURNTLSListen)
	}
	secret := o.TURNSecret
	if secret == "" {
		var b [32]byte
		_, _ = rand.Read(b[:])
		secret = hex.EncodeToString(b[:]) // this process's own credentials only
	}
	ttl := o.TURNTTL
	if ttl <= 0 {
		ttl = DefaultTURNTTL
	}
	peers := []net.IP{net.ParseIP(o.ICEAddress)}
	advertised := o.ICEAddress
	for _, p := range o.publicIPs() {
		peers = append(peers, net.ParseIP(p))
	}
	if ips := o.publicIPs(); len(ips) > 0 {
		advertised = ips[0]
	}
	// Every transport's relays are UDP sockets on the ICE address, and
	// may reach only the server's own ICE addresses.
	relays := func() turn.RelayAddressGenerator {
		return &turn.RelayAddressGeneratorStatic{RelayAddress: net.ParseIP(advertised), Address: o.ICEAddress}
	}
	permit := func(_ net.Addr, peer net.IP) bool { return slices.ContainsFunc(peers, peer.Equal) }
	t := &turnRelay{secret: secret, ttl: ttl}
	cfg := turn.ServerConfig{Realm: turnRealm, AuthHandler: turn.LongTermTURNRESTAuthHandler(secret, plane.QuietLogs().NewLogger("turn")), LoggerFactory: plane.QuietLogs()}
	if err := t.listen(o, advertised); err != nil {
		return err
	}
	if t.udp != nil {
		cfg.PacketConnConfigs = []turn.PacketConnConfig{{PacketConn: t.udp, RelayAddressGenerator: relays(), PermissionHandler: permit}}
	}
	for _, l := range []*turnListener{t.tcp, t.tls} {
		if l != nil {
			cfg.ListenerConfigs = append(cfg.ListenerConfigs, turn.ListenerConfig{Listener: l.outer, RelayAddressGenerator: relays(), PermissionHandler: permit})
		}
	}
	// A browser allocates once per advertised TURN URL: the bound on
	// relays in all grows with the transports offered. The quota is asked
	// on the TURN server's own read goroutines, which may run before
	// NewServer has returned: it reads the server through an atomic, not
	// s.turn (set below). Before that no relay exists.
	maxAlloc := o.MaxSessions * (len(cfg.PacketConnConfigs) + len(cfg.ListenerConfigs))
	var running atomic.Pointer[turn.Server]
	cfg.QuotaHandler = func(string, string, net.Addr) bool {
		srv := running.Load()
		return srv == nil || srv.AllocationCount() < maxAlloc
	}
	srv, err := turn.NewServer(cfg)
	if err != nil {
		t.closeListeners()
		return fmt.Errorf("webrtc: turn: %w", err)
	}
	running.Store(srv)
	t.srv = srv
	s.turn = t
	return nil
}

// listen opens t's sockets and names their URLs, host being the address
// clients reach (the first public IP, else the ICE address).
func (t *turnRelay) listen(o *Options, host string) error {
	url := func(scheme, h string, a net.Addr, transport string) string {
		_, port, _ := net.SplitHostPort(a.String())
		return scheme + ":" + net.JoinHostPort(h, port) + "?transport=" + transport
	}
	if o.TURNListen != "" {
		conn, err := net.ListenPacket("udp", o.TURNListen)
		if err != nil {
			return fmt.Errorf("webrtc: turn listen: %w", err)
		}
		t.udp = conn
		t.urls = append(t.urls, url("turn", host, conn.LocalAddr(), "udp"))
	}
	if o.TURNTCPListen != "" {
		l, err := listenTURNStream(o.TURNTCPListen, nil, o)
		if err != nil {
			t.closeListeners()
			return fmt.Errorf("webrtc: turn tcp listen: %w", err)
		}
		t.tcp = l
		t.urls = append(t.urls, url("turn", host, l.Addr(), "tcp"))
	}
	if o.TURNTLSListen != "" {
		l, err := listenTURNStream(o.TURNTLSListen, o.TURNTLS, o)
		if err != nil {
			t.closeListeners()
			return fmt.Errorf("webrtc: turn tls listen: %w", err)
		}
		t.tls = l
		h := host
		if o.TURNTLSHost != "" {
			h = o.TURNTLSHost
		}
		t.urls = append(t.urls, url("turns", h, l.Addr(), "tcp"))
	}
	return nil
}

// closeListeners closes what listen opened, before the TURN server owns it.
func (t *turnRelay) closeListeners() {
	if t.udp != nil {
		_ = t.udp.Close()
	}
	for _, l := range []*turnListener{t.tcp, t.tls} {
		if l != nil {
			_ = l.outer.Close()
		}
	}
}

// TURNAllocations is the number of open TURN relays.
func (s *Server) TURNAllocations() int { return s.turnAllocations() }

// turnAllocations is the number of open relays.
func (s *Server) turnAllocations() int {
	if s.turn == nil {
		return 0
	}
	return s.turn.srv.AllocationCount()
}

// TURNAddr is the built-in TURN server's UDP socket address, nil when off.
func (s *Server) TURNAddr() net.Addr {
	if s.turn == nil || s.turn.udp == nil {
		return nil
	}
	return s.turn.udp.LocalAddr()
}

// TURNTCPAddr and TURNTLSAddr are the TURN server's TCP and TLS listening
// addresses, nil when off.
func (s *Server) TURNTCPAddr() net.Addr { return s.turnStreamAddr(false) }

// TURNTLSAddr: see TURNTCPAddr.
func (s *Server) TURNTLSAddr() net.Addr { return s.turnStreamAddr(true) }

func (s *Server) turnStreamAddr(tls bool) net.Addr {
	if l := s.turnStream(tls); l != nil {
		return l.Addr()
	}
	return nil
}

// turnStream is the TURN/TCP (tls false) or TURN/TLS listener, nil when
// off.
func (s *Server) turnStream(tls bool) *turnListener {
	if s.turn == nil {
		return nil
	}
	if tls {
		return s.turn.tls
	}
	return s.turn.tcp
}

// links are the Link header values of fresh credentials for id, one per
// transport (RFC 9725 §4.6: username, credential, credential-type).
func (t *turnRelay) links(id string) ([]string, error) {
	user, pass, err := turn.GenerateLongTermTURNRESTCredentials(t.secret, id, t.ttl)
	if err != nil {
		return nil, fmt.Errorf("webrtc: turn credentials: %w", err)
	}
	out := make([]string, 0, len(t.urls))
	for _, u := range t.urls {
		out = append(out, fmt.Sprintf(`<%s>; rel="ice-server"; username="%s"; credential="%s"; credential-type="password"`, u, user, pass))
	}
	return out, nil
}

// close stops the server: its sockets, the stream listeners and every
// connection they accepted (pion/turn closes only the listeners).
func (t *turnRelay) close() {
	_ = t.srv.Close()
	for _, l := range []*turnListener{t.tcp, t.tls} {
		if l != nil {
			l.closeAll()
		}
	}
}
