package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"

	"github.com/flashvox/flashvox/internal/ratelog"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/media/transcode"
	"github.com/flashvox/flashvox/rtmp/message"
)

// Transport is one client's message connection, whatever carries it (an
// RTMP chunk stream, RTMFP flows): what a Session needs of it. WriteMessage
// must not block: it queues, dropping old media when the client is slow. It
// copies the Message struct (callers reuse theirs) and keeps the Payload,
// which nobody modifies. It is called from the Serve goroutine and from
// publishers' goroutines (player sinks). A Transport may also be an
// io.Closer (Session.Close, the linger after a refused connect), hold a
// peer to a smaller budget until connect (Admit), keep setPeerInfo
// addresses (PeerInfoReceiver) and say which end errors are routine
// (RoutineEnder).
type Transport interface {
	ReadMessage() (*message.Message, error)
	WriteMessage(m *message.Message) error
	RemoteAddr() net.Addr
}

// Transcoder subscribes to a stream in another codec (transcode.Service).
type Transcoder interface {
	Subscribe(key string, t transcode.Target, r media.Receiver) (*transcode.Subscription, error)
}

// Options configure every session of a server.
type Options struct {
	Hub *media.Hub
	// Transcoder serves the plays of NAME?codec=C; nil: such plays fail.
	Transcoder Transcoder
	MaxStreams int // NetStreams per connection
	// Apps are every application, by name (rtmp://host/NAME, and
	// NAME/INSTANCE for an app registered as NAME); a connect to any other
	// name is refused with "unknown application".
	Apps map[string]App
	// Transcode is each application's transcoding policy, by the name it
	// is registered under in Apps; missing: TranscodeToken.
	Transcode map[string]TranscodePolicy
	// MaxTranscoders bounds the hub's running transcoders: a ?codec= play
	// that would start one more is refused (0 = no bound, <0 = none may
	// start; sharing a running one is always possible).
	MaxTranscoders int
	// Stats, when set, counts access refusals (metrics).
	Stats  *Stats
	Logger *slog.Logger
	// Refusals logs what a client can repeat at will (refused connects,
	// publishes and commands, streams over the limit, shared objects): one
	// line per cause per interval with the count; its Totals count every
	// refusal by cause (metrics). Handler makes one from Logger when nil; a Session
	// made with New without one logs each refusal through its own.
	Refusals *ratelog.Limiter
	// Hooks, when set, is consulted for every application before its own
	// rules (session/hooks.go).
	Hooks Hooks
	// Redirect, when set, may send a new connection on transport t
	// elsewhere: a non-empty URL (rtmp://OTHER-NODE/APP) rejects the
	// connect the way Flash Media Server's redirectConnection does
	// (NetConnection.Connect.Rejected with ex.code 302 and ex.redirect).
	// The cluster sets it when this node is above its load
	// (docs/CLUSTER.md).
	Redirect func(app string, t Transport) string

	// flv lets players share FLV bodies (flvmedia.go); Handler makes one
	// for all its sessions, New one per session when nil.
	flv *flvShare
}

// FMS-compatible identity sent in the connect reply; ffmpeg and Flash only
// look for the "FMS/" prefix and the capabilities bits.
const (
	fmsVersion     = "FMS/3,5,7,7009"
	fmsCapabilites = 31
	windowAckSize  = 2500000
	peerBandwidth  = 2500000
)

// Errors a session ends with.
var (
	ErrNotConnected = errors.New("session: command before connect")
	ErrProtocol     = errors.New("session: protocol violation")
	// ErrConnectRejected is a session ended by refusing its connect (an
	// unknown application, a bad token, a hook's no).
	ErrConnectRejected = errors.New("connect rejected")
)

// Session is one client's NetConnection.
type Session struct {
	t    Transport
	opts Options
	log  *slog.Logger

	// Owned by the Serve goroutine.
	app       string // as connected, without query: APP or APP/INSTANCE
	appName   string // the name it is registered under in Options.Apps
	appConn   AppConn
	hookInfo  *ConnInfo // set at connect when Options.Hooks is
	connected bool
	amf3      bool
	streams   map[uint32]*netStream
	nextID    uint32

	mu      sync.Mutex // guards pending and nextTx: Invoke runs on other goroutines
	pending map[float64]chan *message.Command
	nextTx  float64

	ctx context.Context
}

// New makes a session for transport t.
func New(t Transport, opts Options) *Session {
	if opts.MaxStreams <= 0 {
		opts.MaxStreams = 16
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.Refusals == nil {
		opts.Refusals = ratelog.New(ratelog.Options{Logger: log})
	}
	if opts.flv == nil {
		opts.flv = newFLVShare()
	}
	return &Session{
		t: t, opts: opts, log: log,
		streams: map[uint32]*netStream{},
		pending: map[float64]chan *message.Command{},
		nextTx:  1,
	}
}

// Serve reads and executes commands until the transport fails or ctx ends,
// then releases every publication and subscription of the session.
func (s *Session) Serve(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	s.ctx = ctx
	defer func() {
		cancel()
		for id := range s.streams {
			s.closeStream(id)
		}
		s.failPending()
		if s.appConn != nil {
			s.appConn.Close()
		}
	}()
	for {
		m, err := s.t.ReadMessage()
		if err != nil {
			return err
		}
		if err := s.handle(m); err != nil {
			if errors.Is(err, ErrConnectRejected) {
				s.linger()
			}
			return err
		}
	}
}

func (s *Session) handle(m *message.Message) error {
	switch m.Type {
	case message.TypeCommandAMF0, message.TypeCommandAMF3:
		cmd, err := message.ParseCommand(m)
		if err != nil {
			return fmt.Errorf("session: %w", err)
		}
		return s.command(m.StreamID, cmd)
	case message.TypeAudio, message.TypeVideo, message.TypeDataAMF0, message.TypeDataAMF3:
		return s.media(m)
	case message.TypeSharedObjectAMF0, message.TypeSharedObjectAMF3:
		return s.sharedObjectRefusal(m)
	}
	// Anything else (e.g. a bandwidth probe) is ignored, as FMS does.
	s.log.Debug("ignored message", "type", m.Type)
	return nil
}

// command dispatches one NetConnection or NetStream command.
func (s *Session) command(streamID uint32, c *message.Command) error {
	if c.Name == "_result" || c.Name == "_error" {
		s.deliver(c)
		return nil
	}
	if c.Name == "connect" {
		return s.connect(c)
	}
	if !s.connected {
		return fmt.Errorf("%w: %q", ErrNotConnected, c.Name)
	}
	switch c.Name {
	case "createStream":
		return s.createStream(c)
	case "deleteStream", "closeStream":
		id := streamID
		if c.Name == "deleteStream" {
			id = uint32(argNumber(c.Args, 0))
		}
		s.closeStream(id)
		return nil
	case "releaseStream", "FCPublish", "FCUnpublish", "FCSubscribe":
		// ffmpeg and OBS send these before publishing; FMS answers FCPublish
		// with onFCPublish, but ffmpeg needs nothing, so a plain _result does.
		return s.result(c, nil)
	case "getStreamLength":
		return s.result(c, 0.0)
	case "_checkbw":
		return s.result(c, nil)
	case "publish":
		return s.publish(streamID, c)
	case "play":
		return s.play(streamID, c)
	case "play2":
		return s.play2(streamID, c)
	case "pause", "pauseRaw":
		return s.pause(streamID, c)
	case "receiveAudio", "receiveVideo":
		return s.receive(streamID, c)
	case "seek":
		return s.onStatus(streamID, statusInfo(codeSeekNotify, "Seeking is not possible in a live stream."))
	case "setPeerInfo":
		// RTMFP clients announce their addresses; nothing is answered.
		if p, ok := s.t.(PeerInfoReceiver); ok {
			p.SetPeerInfo(stringArgs(c.Args))
		}
		return nil
	}
	return s.appCall(c)
}

// Transport is the connection the session runs on (an application may ask
// it what it is: RTMFP's Conn has a PeerID).
func (s *Session) Transport() Transport { return s.t }

// RemoteAddr is the client's address as text ("" when the transport has
// none): what the guessing throttle counts.
func (s *Session) RemoteAddr() string {
	if a := s.t.RemoteAddr(); a != nil {
		return a.String()
	}
	return ""
}

// Close closes the transport if it can be closed (rtmp.Conn writes what
// is queued first): Serve then ends with it. Safe from any goroutine.
func (s *Session) Close() {
	if cl, ok := s.t.(io.Closer); ok {
		_ = cl.Close()
	}
}

// PeerInfoReceiver is a Transport that keeps a client's setPeerInfo
// addresses (RTMFP's Conn, which also answers with its keepalive periods).
type PeerInfoReceiver interface {
	SetPeerInfo(addrs []string)
}

func stringArgs(args []any) []string {
	var out []string
	for _, a := range args {
		if v, ok := a.(string); ok {
			out = append(out, v)
		}
	}
	return out
}

// appCall hands an unknown NetConnection.call to the application.
func (s *Session) appCall(c *message.Command) error {
	res, err := s.appConn.Call(s.ctx, c.Name, c.Args)
	if err != nil {
		return s.callFailed(c, fmt.Sprintf("%s: %v", c.Name, err))
	}
	return s.result(c, res)
}

func argNumber(args []any, i int) float64 {
	if i < len(args) {
		if f, ok := args[i].(float64); ok {
			return f
		}
	}
	return 0
}

func argString(args []any, i int) (string, bool) {
	if i < len(args) {
		s, ok := args[i].(string)
		return s, ok
	}
	return "", false
}

func argBool(args []any, i int, def bool) bool {
	if i < len(args) {
		if b, ok := args[i].(bool); ok {
			return b
		}
	}
	return def
}
