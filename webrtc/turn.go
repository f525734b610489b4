package webrtc

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/pion/logging"
	"github.com/pion/turn/v5"
)

// turnRealm is the realm of the built-in TURN server's credentials.
const turnRealm = "flashvox"

// DefaultTURNTTL is how long TURN credentials stay valid by default.
const DefaultTURNTTL = time.Hour

// turnRelay is the built-in TURN server (Options.TURNListen): a relay for
// browsers that cannot reach the server's media port over UDP directly.
// It relays to this server's own ICE addresses only (the permission
// handler refuses every other peer), so it cannot be used to reach anyone
// else. Credentials follow the TURN REST API convention: username
// "EXPIRY:ID", password base64(HMAC-SHA1(secret, username)), issued only
// in answers to requests that passed Access.
type turnRelay struct {
	srv    *turn.Server
	conn   net.PacketConn
	secret string
	ttl    time.Duration
	url    string // turn:HOST:PORT?transport=udp as clients reach it
}

// startTURN opens the TURN server when Options.TURNListen is set.
func (s *Server) startTURN() error {
	o := &s.o
	if o.TURNListen == "" {
		return nil
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
	conn, err := net.ListenPacket("udp", o.TURNListen)
	if err != nil {
		return fmt.Errorf("webrtc: turn listen: %w", err)
	}
	relayIP := net.ParseIP(o.ICEAddress)
	peers := []net.IP{relayIP}
	advertised := o.ICEAddress
	for _, p := range o.publicIPs() {
		peers = append(peers, net.ParseIP(p))
	}
	if ips := o.publicIPs(); len(ips) > 0 {
		advertised = ips[0]
	}
	maxAlloc := o.MaxSessions
	// The quota is asked on the TURN server's own read goroutine, which may
	// run before NewServer has returned: it reads the server through an
	// atomic, not s.turn (set below). Before that no relay exists.
	var running atomic.Pointer[turn.Server]
	quota := func(string, string, net.Addr) bool {
		t := running.Load()
		return t == nil || t.AllocationCount() < maxAlloc
	}
	srv, err := turn.NewServer(turn.ServerConfig{
		Realm:         turnRealm,
		AuthHandler:   turn.LongTermTURNRESTAuthHandler(secret, nil),
		LoggerFactory: quietLogs{},
		QuotaHandler:  quota,
		PacketConnConfigs: []turn.PacketConnConfig{{
			PacketConn: conn,
			RelayAddressGenerator: &turn.RelayAddressGeneratorStatic{
				RelayAddress: net.ParseIP(advertised), Address: o.ICEAddress,
			},
			PermissionHandler: func(_ net.Addr, peer net.IP) bool {
				return slices.ContainsFunc(peers, peer.Equal)
			},
		}},
	})
	if err != nil {
		_ = conn.Close()
		return fmt.Errorf("webrtc: turn: %w", err)
	}
	running.Store(srv)
	port := conn.LocalAddr().(*net.UDPAddr).Port
	s.turn = &turnRelay{srv: srv, conn: conn, secret: secret, ttl: ttl,
		url: "turn:" + net.JoinHostPort(advertised, strconv.Itoa(port)) + "?transport=udp"}
	return nil
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

// TURNAddr is the built-in TURN server's socket address, nil when off.
func (s *Server) TURNAddr() net.Addr {
	if s.turn == nil {
		return nil
	}
	return s.turn.conn.LocalAddr()
}

// link is the Link header value of fresh credentials for id (RFC 9725
// §4.6: username, credential, credential-type).
func (t *turnRelay) link(id string) (string, error) {
	user, pass, err := turn.GenerateLongTermTURNRESTCredentials(t.secret, id, t.ttl)
	if err != nil {
		return "", fmt.Errorf("webrtc: turn credentials: %w", err)
	}
	return fmt.Sprintf(`<%s>; rel="ice-server"; username="%s"; credential="%s"; credential-type="password"`,
		t.url, user, pass), nil
}

func (t *turnRelay) close() { _ = t.srv.Close() }

// quietLogs keeps pion/turn's own logging off (it would log per packet
// trouble a client can cause at will); refusals show in the answers.
type quietLogs struct{}

func (quietLogs) NewLogger(string) logging.LeveledLogger {
	return logging.NewDefaultLeveledLoggerForScope("turn", logging.LogLevelDisabled, nopWriter{})
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }
