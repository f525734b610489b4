package webrtc

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/media/transcode"
)

// Errors an Access returns to choose the HTTP status of a refusal.
var (
	// ErrUnauthorized: the application needs credentials (a Bearer token
	// or stream key) that are missing or wrong: 401.
	ErrUnauthorized = errors.New("credentials required")
	// ErrForbidden: nobody may do this here: 403.
	ErrForbidden = errors.New("not allowed")
	// ErrNotFound: no such application: 404.
	ErrNotFound = errors.New("no such application")
	// ErrOpusUnavailable answers every request of a build without libopus.
	ErrOpusUnavailable = errors.New("opus is not available in this build (built without cgo)")
)

// Request is what a WHIP or WHEP request asks for, as Access sees it.
type Request struct {
	App, Name string
	Publish   bool   // WHIP; false: WHEP
	Bearer    string // the Authorization: Bearer credential, "" if none
	Query     string // the URL's raw query (key=…), "" if none
	Addr      string // the client's IP address, for the guessing throttle
	// Context is the HTTP request's: it ends when the client goes away
	// (an Access that asks an outside service, the HTTP hooks, uses it).
	Context context.Context
}

// Access decides whether a request may publish or play, and names the hub
// key it reaches (APP/NAME for a live application). A refusal wraps
// ErrUnauthorized, ErrForbidden or ErrNotFound.
type Access interface {
	Authorize(r Request) (key string, err error)
}

// Ender is an optional interface of an Access: Ends returns a channel
// closed when the right that admitted r ends (a conference member put out
// of its room), which closes the session at once; nil: the session lasts
// until its client or the server ends it.
type Ender interface {
	Ends(r Request) <-chan struct{}
}

// AccessFunc adapts a function to Access.
type AccessFunc func(r Request) (string, error)

// Authorize calls f.
func (f AccessFunc) Authorize(r Request) (string, error) { return f(r) }

// Transcoder gives a hub stream in another codec (*transcode.Service).
type Transcoder interface {
	Subscribe(key string, t transcode.Target, r media.Receiver) (*transcode.Subscription, error)
}

// Options configure a Server; zero values take the defaults named.
type Options struct {
	Hub        *media.Hub
	Transcoder Transcoder
	Access     Access
	// Codecs is the codec preference (DefaultCodecs when empty): the
	// first one an offer has is the session's only codec.
	Codecs []codec.ID
	// ICEAddress is the local address ICE gathers host candidates on
	// ("127.0.0.1" by default, loopback only); PublicIP and PublicIPs,
	// when set, replace it in the candidates (a server behind 1:1 NAT:
	// at most one address per IP family).
	ICEAddress string
	PublicIP   string
	PublicIPs  []string
	// STUNListen, when set (host:port), runs the built-in STUN server
	// there (Binding requests only) and advertises it in the answers'
	// Link headers; ICEServers are more stun:/stuns: URLs advertised as
	// given (RFC 9725 §4.6).
	STUNListen string
	ICEServers []string
	// STUNServers (stun:HOST[:PORT] URLs, UDP, at most MaxSTUNServers)
	// are the STUN servers every session asks for its server-reflexive
	// address: the answer then has a srflx candidate per server (and ICE
	// address family) besides the host one, for a server behind a NAT
	// whose public address is not known in advance. Each costs a session
	// one more UDP socket (in UDPPortMin..UDPPortMax) and a Binding
	// transaction; nothing else is sent to them. An answer waits for them
	// at most STUNGatherTimeout (default DefaultSTUNGatherTimeout).
	STUNServers       []string
	STUNGatherTimeout time.Duration
	// TURNListen, when set (host:port), runs the built-in TURN server
	// there, relaying to this server's ICE addresses only; its
	// credentials (TURN REST API: HMAC-SHA1 of TURNSecret, random per
	// process when empty, valid TURNTTL, default DefaultTURNTTL) go in the
	// Link headers of answers and of OPTIONS requests that pass Access.
	TURNListen string
	TURNSecret string
	TURNTTL    time.Duration
	// TURNTCPListen and TURNTLSListen, when set (host:port), carry the
	// same TURN server over TCP and over TLS (TURNTLS: the certificate,
	// required with TURNTLSListen), for browsers whose network lets only
	// TCP (or only TLS) out: turn:HOST:PORT?transport=tcp and
	// turns:TURNTLSHost:PORT?transport=tcp, same credentials, same relay
	// restriction; relays themselves are UDP (RFC 6062 TCP relays are
	// not offered). Connections are bounded as sessions are
	// (MaxSessions in all, MaxSessionsPerIP from one address, per
	// listener) and closed after TURNIdleTimeout without a byte
	// (default DefaultTURNIdleTimeout). TURNTLSHost is the turns: URL's
	// host, the name the certificate is for; "" is the advertised IP.
	TURNTCPListen   string
	TURNTLSListen   string
	TURNTLS         *tls.Config
	TURNTLSHost     string
	TURNIdleTimeout time.Duration
	// UDPPortMin..UDPPortMax is the range of the sessions' UDP ports;
	// 0, 0 lets the system choose.
	UDPPortMin, UDPPortMax uint16
	// UDPMuxPort, when not 0, puts every session's ICE on one UDP socket
	// bound to ICEAddress:UDPMuxPort (pion's ICE UDP mux: one firewall
	// opening, one socket however many sessions); it excludes
	// UDPPortMin/UDPPortMax and STUNServers.
	UDPMuxPort uint16
	// Engine is how sessions carry their media: EngineLite (the media
	// plane: every session on ICEAddress:LitePort, 0 picking a port;
	// it excludes UDPMuxPort, UDPPortMin/UDPPortMax and STUNServers) or
	// EnginePion (a pion PeerConnection each). "" is lite, or pion when
	// one of the options only pion's engine has is set.
	Engine   string
	LitePort uint16
	// MaxSessions bounds open sessions (default 100), MaxSessionsPerIP
	// one client address's share (default 10).
	MaxSessions, MaxSessionsPerIP int
	// ConnectTimeout ends a session whose ICE has not connected (default 10 s).
	ConnectTimeout time.Duration
	// MaxTranscoders is the transcode budget WHEP players count against
	// (transcode.Target.Budget; 0: not budgeted, <0: none may start).
	MaxTranscoders int
	// PlayQueue bounds a WHEP player's queue of frames from the hub,
	// dropping the oldest when full (media.Queue); 0: the hub's
	// subscriber queue. A server for live calls sets
	// transcode.LiveQueueFrames, so a player that falls behind (an
	// overloaded machine) skips old audio instead of delaying the call.
	PlayQueue int
	// Records, when set, receives the record of every session that
	// connected when it ends (the call records' WebRTC sessions).
	Records Recorder
	Logger  *slog.Logger
}

func (o *Options) defaults() {
	if len(o.Codecs) == 0 {
		o.Codecs = DefaultCodecs
	}
	if o.Engine == "" {
		// The media plane, unless an option only pion's engine has is set.
		o.Engine = EngineLite
		if o.UDPMuxPort != 0 || o.UDPPortMin != 0 || o.UDPPortMax != 0 || len(o.STUNServers) > 0 {
			o.Engine = EnginePion
		}
	}
	if o.ICEAddress == "" {
		o.ICEAddress = "127.0.0.1"
	}
	if o.MaxSessions == 0 {
		o.MaxSessions = 100
	}
	if o.MaxSessionsPerIP == 0 {
		o.MaxSessionsPerIP = 10
	}
	if o.ConnectTimeout == 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	if o.STUNGatherTimeout == 0 {
		o.STUNGatherTimeout = DefaultSTUNGatherTimeout
	}
	if o.TURNIdleTimeout == 0 {
		o.TURNIdleTimeout = DefaultTURNIdleTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// publicIPs is PublicIP and PublicIPs, without repeats.
func (o *Options) publicIPs() []string {
	var out []string
	for _, ip := range append([]string{o.PublicIP}, o.PublicIPs...) {
		if ip != "" && !slices.Contains(out, ip) {
			out = append(out, ip)
		}
	}
	return out
}
