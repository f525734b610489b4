package sipbridge

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	dmedia "github.com/emiago/diago/media"

	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/connlimit"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/media/transcode"
	"github.com/flashvox/flashvox/throttle"
)

// Options configure a Bridge. They are plain values from the config's sip
// section plus the components the bridge talks to.
type Options struct {
	Listen        string // host:port for UDP and TCP; port 0 picks a free one
	PublicAddress string // written in SDP and Contact when behind NAT
	// TLSListen is the SIP-over-TLS listener ("" = none; port 0 picks a
	// free one); TLSConfig holds its certificate. TLSClientConfig
	// verifies the trunks and phones dialed over TLS (nil: system roots).
	TLSListen       string
	TLSConfig       *tls.Config
	TLSClientConfig *tls.Config
	// RTPPortMin..RTPPortMax is the RTP port range (0, 0: any port). The
	// range is process-wide in diago: the last Bridge started sets it.
	RTPPortMin, RTPPortMax int
	// RTPTimeout hangs up a call whose peer sent no RTP for this long
	// (default 30s).
	RTPTimeout time.Duration
	// JitterBuffer is how long a packet after a gap in the RTP sequence
	// waits for the missing ones (default DefaultJitterBuffer; negative:
	// no waiting, packets out of order are dropped as late).
	JitterBuffer   time.Duration
	CallsPerMinute int // outbound calls per user per minute (0: no limit)
	CallsPerDay    int // outbound calls per user per day, UTC (0: no limit)
	Trunks         []Trunk
	DialPlan       []Rule
	Inbound        []Inbound
	// Records receives the record of every answered SIP leg that ends
	// (legrecord.go); nil: none.
	Records LegRecorder
	// Credentials are the accounts SIP phones authenticate as (their HA1
	// in Realm); nil: nobody can log in.
	Credentials Credentials
	// Realm is the digest realm of challenges to phones (default "flashvox").
	Realm string
	// DigestAlgorithms are offered in this order (default SHA-256, MD5:
	// one challenge header each).
	DigestAlgorithms []string
	// NonceLifetime is how long a digest nonce is accepted (default
	// DefaultNonceLifetime); then the phone gets stale=true.
	NonceLifetime time.Duration
	// Throttle slows digest guessing per address and per account (nil: a
	// private one with the throttle package's defaults).
	Throttle *throttle.Throttle
	// RegisterMinExpires and RegisterMaxExpires bound a registration's
	// lifetime in seconds (defaults 60 and 3600); a shorter one gets 423.
	RegisterMinExpires, RegisterMaxExpires int
	// MaxBindings is how many contacts one user may register (default 10).
	MaxBindings int
	// Registrations keeps the phones' registrations across restarts (the
	// store; regstore.go); nil: RegistrationsFile, a JSON file; "" too =
	// not kept.
	Registrations     RegistrationStore
	RegistrationsFile string
	// TCPIdleTimeout closes an accepted SIP/TCP or SIP/TLS connection
	// that sends nothing for this long (a half-sent request included);
	// MaxConnsPerIP bounds the connections one address (IPv6: a /64)
	// holds open on them. 0: no limit.
	TCPIdleTimeout time.Duration
	MaxConnsPerIP  int
	// Codecs is the codec order of offers to phones and answers to them
	// (and to trunks without their own Trunk.Codecs); nil: DefaultCodecs.
	Codecs []codec.ID
	Hub    *media.Hub
	// Transcoder gives a SIP leg the web user's audio in the negotiated
	// codec; nil: a transcode.Service of its own on Hub (tests: share the
	// server's, so budgets and counters are one).
	Transcoder Transcoder
	// Peers builds the services inbound SIP reaches (see Peers), given
	// the bridge to carry their calls to numbers; nil: nobody is rung.
	// A hook rather than values because the cycle is genuine: the call
	// service dials numbers through the bridge (call.Gateway), rooms
	// invite numbers through it (DialConference), and the bridge rings
	// users and joins rooms through them. Start runs Peers before it
	// listens, so every request finds them complete: no setter, nothing
	// nil in between. Peers must keep the bridge, not call it yet.
	Peers  func(*Bridge) Peers
	Logger *slog.Logger
	Now    func() time.Time
}

// Transcoder subscribes to a stream in another codec (transcode.Service).
type Transcoder interface {
	Subscribe(key string, t transcode.Target, r media.Receiver) (*transcode.Subscription, error)
}

// Peers are the services the bridge serves inbound SIP with.
type Peers struct {
	// Calls rings users for INVITEs to them and places their SIP
	// phones' calls; it must be built with the bridge as its gateway.
	Calls *call.Service
	// Conferences lets callers to conf:ROOM into rooms; without Join
	// such calls get 480.
	Conferences ConferenceJoiner
	// Remote rings users connected to other nodes of a cluster for
	// trunks' calls to inbound numbers (inbound_remote.go); nil: only
	// this node's users are rung.
	Remote RemoteRinger
}

// Bridge is flashvox's SIP user agent. It implements call.Gateway: web
// users' calls to numbers and to echo come to Dial; INVITEs from the
// network ring users through call.Service.InviteExternal.
type Bridge struct {
	opts  Options
	log   *slog.Logger
	stack stack
	// routing is the trunks, dial plan and inbound numbers now (reload.go).
	routing atomic.Pointer[routing]
	treg    trunkRegs // the trunks' registrations
	limit   rateLimiter
	daily   dailyLimiter
	auth    *digestAuth
	regs    registrar
	legs    legCodecs
	// trunkStates are the trunks' registration states (adminstate.go).
	trunkStates trunkStates
	// Stats are exported as metrics.
	Stats Stats

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	closed bool
	// calls and confs are Options.Peers', fixed before the bridge listens.
	calls *call.Service
	confs ConferenceJoiner
	// remote is Peers.Remote (nil: no cluster).
	remote RemoteRinger
	// regStore keeps the registrations across restarts, nil: not kept.
	regStore RegistrationStore
}

// Start listens on o.Listen and serves until Close.
func Start(o Options) (*Bridge, error) {
	if o.RTPTimeout <= 0 {
		o.RTPTimeout = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Realm == "" {
		o.Realm = "flashvox"
	}
	if o.RegisterMinExpires <= 0 {
		o.RegisterMinExpires = defaultRegisterMinExpires
	}
	if o.RegisterMaxExpires < o.RegisterMinExpires {
		o.RegisterMaxExpires = max(defaultRegisterExpires, o.RegisterMinExpires)
	}
	if o.MaxBindings <= 0 {
		o.MaxBindings = defaultMaxBindings
	}
	if o.Throttle == nil {
		o.Throttle = throttle.New(throttle.Options{Logger: o.Logger.With("check", "sip digest")})
	}
	if len(o.Codecs) == 0 {
		o.Codecs = DefaultCodecs
	}
	if o.Transcoder == nil && o.Hub != nil {
		tc := transcode.New(o.Hub, o.Logger.With("component", "transcode"))
		tc.InputQueue = transcode.LiveQueueFrames // live calls: drop old audio, not delay it
		o.Transcoder = tc
	}
	if o.Credentials == nil {
		o.Credentials = CredentialsFunc(func(string, string) (string, bool) { return "", false })
	}
	b := &Bridge{opts: o, log: o.Logger, limit: rateLimiter{n: o.CallsPerMinute, now: o.Now},
		daily: dailyLimiter{n: o.CallsPerDay, now: o.Now}, regStore: o.registrationStore()}
	b.auth = newDigestAuth(digestOptions{Realm: o.Realm, Creds: o.Credentials, Algorithms: o.DigestAlgorithms,
		Lifetime: o.NonceLifetime, SameURI: sameRequestURI, Throttle: o.Throttle, Now: o.Now})
	b.routing.Store(newRouting(o.Trunks, o.DialPlan, o.Inbound))
	if o.RTPPortMin > 0 && o.RTPPortMax > o.RTPPortMin {
		dmedia.RTPPortStart, dmedia.RTPPortEnd = o.RTPPortMin, o.RTPPortMax
	}
	if o.Peers != nil {
		p := o.Peers(b)
		b.calls, b.confs, b.remote = p.Calls, p.Conferences.withDefaults(), p.Remote
	}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	if err := b.listen(); err != nil {
		b.cancel()
		return nil, err
	}
	if n, err := b.loadBindings(); err != nil {
		b.log.Warn("sip registrations not restored", "err", err)
	} else if n > 0 {
		b.log.Info("sip registrations restored", "bindings", n)
	}
	b.treg.mu.Lock()
	for _, t := range o.Trunks {
		if t.Register {
			b.startTrunkLocked(t)
		}
	}
	b.treg.mu.Unlock()
	return b, nil
}

// listen starts the SIP stack. Its handlers wait until b.stack is set:
// the stack serves from inside newDiagoStack, and a request's goroutine
// must see the stack it answers through (it raced with the assignment).
func (b *Bridge) listen() error {
	o := b.opts
	ready := make(chan struct{})
	st, err := newDiagoStack(diagoOptions{
		Listen:          o.Listen,
		PublicAddress:   o.PublicAddress,
		TLSListen:       o.TLSListen,
		TLSConfig:       o.TLSConfig,
		TLSClientConfig: o.TLSClientConfig,
		Logger:          o.Logger.With("layer", "sip"),
		OnOffer:         func(of offer) { <-ready; b.serveOffer(of) },
		OnRegister:      func(r registration) { <-ready; b.serveRegister(r) },
		Stats:           &b.Stats,
		Stream:          connlimit.Options{PerIP: o.MaxConnsPerIP, IdleTimeout: o.TCPIdleTimeout, Stats: &b.Stats.Conns},
	})
	if err != nil {
		close(ready) // never leave a handler of a failed stack waiting
		return err
	}
	b.stack = st
	close(ready)
	b.log.Info("sip listening", "addr", st.Addr(), "transports", "udp,tcp")
	if a := st.TLSAddr(); a != "" {
		b.log.Info("sip listening", "addr", a, "transports", "tls")
	}
	return nil
}

// Addr is the host:port the bridge listens on (UDP and TCP).
func (b *Bridge) Addr() string { return b.stack.Addr() }

// TLSAddr is the host:port of the SIP-over-TLS listener, "" without one.
func (b *Bridge) TLSAddr() string { return b.stack.TLSAddr() }

// Close hangs up every SIP call and stops listening.
func (b *Bridge) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	b.mu.Unlock()
	b.closeBindings()
	b.cancel()
	b.wg.Wait()
	return b.stack.Close()
}

// trunkCodecs is t's codec order (Trunk.Codecs, else Options.Codecs).
func (b *Bridge) trunkCodecs(t Trunk) []codec.ID {
	if len(t.Codecs) > 0 {
		return t.Codecs
	}
	return b.opts.Codecs
}

// goLeg runs a leg's goroutine unless the bridge is closed.
func (b *Bridge) goLeg(f func()) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	b.wg.Go(f)
	return true
}

// Routes is call.Gateway's: numbers and echo are the bridge's.
func (b *Bridge) Routes(to string) bool { return looksDialable(to) }

// Dial is call.Gateway's: it checks the dial plan and the user's rights
// and starts the outbound leg. It never blocks.
func (b *Bridge) Dial(x call.External, from, to string) (call.Leg, error) {
	if to == EchoTarget {
		l := newEventQueue()
		if !b.goLeg(func() { b.runWebEcho(x, l) }) {
			return nil, ErrClosed
		}
		return l, nil
	}
	t, err := b.checkDial(from, to)
	if err != nil {
		return nil, err
	}
	l := newEventQueue()
	if !b.goLeg(func() { b.runOutbound(x, from, to, t, l) }) {
		return nil, ErrClosed
	}
	return l, nil
}

// checkDial decides whether from may call number to now: the first
// dial-plan rule matching it, the rule's users, calls per minute and per
// day. The error says which refused it.
func (b *Bridge) checkDial(from, to string) (Trunk, error) {
	rt := b.routes()
	r, ok := route(rt.dialPlan, to)
	if !ok {
		return Trunk{}, fmt.Errorf("%w: %s", ErrNoRoute, to)
	}
	if !r.permitted(from) {
		return Trunk{}, fmt.Errorf("%w: %s", ErrNotPermitted, to)
	}
	t, ok := rt.trunks[r.Trunk]
	if !ok {
		return Trunk{}, fmt.Errorf("%w: trunk %q is not configured", ErrNoRoute, r.Trunk)
	}
	if !b.limit.allow(from) {
		return Trunk{}, fmt.Errorf("%w: limit %d", ErrRateLimited, b.opts.CallsPerMinute)
	}
	if !b.daily.allow(from) {
		return Trunk{}, fmt.Errorf("%w: limit %d", ErrDailyLimit, b.opts.CallsPerDay)
	}
	return t, nil
}

// eventQueue is a call.Leg: call.Service's events for one leg, queued for
// the leg's goroutine. Events are few per call (an answer, an end, DTMF
// strings); a full queue drops and logs.
type eventQueue struct {
	c chan call.Event
}

func newEventQueue() *eventQueue { return &eventQueue{c: make(chan call.Event, 32)} }

// Event queues e without blocking (call.Leg).
func (q *eventQueue) Event(e call.Event) {
	select {
	case q.c <- e:
	default:
	}
}

// isEnd reports whether e ends the call.
func isEnd(e call.Event) bool {
	switch e.Type {
	case call.EvRejected, call.EvCanceled, call.EvBye:
		return true
	}
	return false
}
