package rtmfp

import (
	"log/slog"
	"net/netip"
	"time"

	"github.com/flashvox/flashvox/rtmfp/wire"
)

// DefaultAddr is where ListenAndServe listens when none is given (UDP).
const DefaultAddr = "127.0.0.1:1935"

// Config are an endpoint's limits and policies. Zero fields take the
// defaults of Defaults.
type Config struct {
	MaxSessions         int // open sessions in total
	MaxSessionsPerIP    int // open sessions per remote IP
	HandshakesPerSecond int // keying attempts (and hellos, ×8) per remote IP per second
	MaxFlows            int // receive flows (and streams) per session
	FlowBuffer          int // reassembly bytes per flow
	SessionBuffer       int // reassembly bytes per session
	// PreConnectBuffer bounds a responder session's reassembly bytes until
	// its NetConnection connect is admitted (Conn.Admit): a stranger cannot
	// park SessionBuffer of half-sent messages before it has said who it is.
	PreConnectBuffer int
	SendQueue        int           // queued bytes per session before media is dropped
	IdleTimeout      time.Duration // a session that hears nothing this long is dropped
	Keepalive        time.Duration // ping after this much silence
	AudioLifetime    time.Duration // audio older than this is abandoned, never retransmitted
	// CongestionDelay turns on delay-based congestion detection (cc.go):
	// a smoothed RTT this far above the session's baseline cuts the
	// congestion window as a loss would. 0 (the default): off, as in
	// rtmfp-cpp; its suggested value is 100 ms.
	CongestionDelay time.Duration
	Policy          wire.Policy    // whether HMAC / sequence numbers are required of peers
	Identity        *wire.Identity // nil: a random one for the life of the process
	// Rendezvous: IHellos for peer IDs that are not ours, per initiator IP
	// and per introduced session per second; peer IDs we do not know are
	// redirected to RedirectServers (none: silence).
	IntroductionsPerSecond int
	IntroductionsPerPeer   int
	RedirectServers        []netip.AddrPort
	// Place, when set, is asked at every IHello for this server: the
	// addresses it returns get a Redirect instead of the RHello (load
	// placement: a cluster node above its load sends new clients to a
	// less loaded node); none: the handshake goes on here.
	Place func() []netip.AddrPort
	// Introduce, when set, decides each introduction of a connected peer:
	// initiator is the peer ID (hex) of the session the IHello's address
	// has with this server ("" when none), target the peer ID asked for.
	// A refusal is silence, as for an unknown peer ID, so the IHello
	// learns nothing. nil introduces every open session (Cirrus-style).
	Introduce func(initiator, target string) bool
	Logger    *slog.Logger
}

// Defaults fills in zero fields.
func (c *Config) Defaults() {
	def := func(p *int, v int) {
		if *p <= 0 {
			*p = v
		}
	}
	def(&c.MaxSessions, 10000)
	def(&c.MaxSessionsPerIP, 64)
	def(&c.HandshakesPerSecond, 20)
	def(&c.MaxFlows, 64)
	def(&c.IntroductionsPerSecond, 10)
	def(&c.IntroductionsPerPeer, 20)
	def(&c.FlowBuffer, 1<<20)
	def(&c.SessionBuffer, 4<<20)
	def(&c.PreConnectBuffer, 64<<10)
	def(&c.SendQueue, 1<<20)
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 120 * time.Second
	}
	if c.Keepalive <= 0 {
		c.Keepalive = 30 * time.Second
	}
	if c.AudioLifetime <= 0 {
		c.AudioLifetime = 500 * time.Millisecond
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// responderLimits are limits for sessions peers open to us: held to
// PreConnectBuffer until admitted.
func (c *Config) responderLimits() sessionLimits {
	l := c.limits()
	l.preConnect = c.PreConnectBuffer
	return l
}

func (c *Config) limits() sessionLimits {
	return sessionLimits{
		maxFlows: c.MaxFlows, flowBuffer: c.FlowBuffer, sessionBuffer: c.SessionBuffer, maxQueued: c.SendQueue,
		idleTimeout: c.IdleTimeout, keepalive: c.Keepalive, audioLifetime: c.AudioLifetime,
		congestionDelay: c.CongestionDelay,
	}
}
