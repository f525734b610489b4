package rtmp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/rtmp/handshake"
	"github.com/flashvox/flashvox/rtmp/message"
)

// DefaultFlashVer is the flashVer a Client sends unless told otherwise
// (ffmpeg's, which servers know).
const DefaultFlashVer = "LNX 9,0,124,2"

// ClientOptions configures Dial. Callbacks run on the Client's dispatch
// goroutine, one at a time, and must not block.
type ClientOptions struct {
	Config    ConnConfig
	Handshake handshake.Options
	FlashVer  string
	SwfURL    string
	PageURL   string
	// ObjectEncoding 0 (AMF0) or 3 (AMF3: commands go out as type 17).
	ObjectEncoding float64
	// TLSConfig is used by rtmps and rtmpts; nil verifies the server
	// against the system roots.
	TLSConfig *tls.Config
	// ConnectArgs follow the command object in connect (connection arguments).
	ConnectArgs []any
	Logger      *slog.Logger
	// OnMessage gets audio, video, data and stream user control messages.
	OnMessage func(m *message.Message)
	// OnCommand gets server-initiated invokes (anything but _result/_error
	// for our calls and onStatus). Answer with Client.Respond.
	OnCommand func(cmd *message.Command, m *message.Message)
	// OnStatus gets every onStatus info object with its stream id.
	OnStatus func(streamID uint32, info *amf.Object)
}

// CallError is a call answered with _error; Command is the whole answer.
type CallError struct {
	Name    string
	Command *message.Command
}

func (e *CallError) Error() string {
	code, desc := "", ""
	if o := e.Command.StatusObject(); o != nil {
		code, desc = o.GetString("code"), o.GetString("description")
	}
	return fmt.Sprintf("rtmp: %s failed: %s %s", e.Name, code, desc)
}

// StatusError is an onStatus that ended a Publish or Play with other than
// the expected code.
type StatusError struct {
	Code, Level, Description string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("rtmp: %s (%s) %s", e.Code, e.Level, e.Description)
}

type statusWaiter struct {
	match func(code, level string) bool
	ch    chan *amf.Object
}

// Client is an RTMP client connection: Dial connects, then Call, CreateStream,
// Publish, Play and the Write methods. It owns a dispatch goroutine that
// reads the Conn; pending calls and status waiters are guarded by mu.
type Client struct {
	conn   *Conn       // nil when the client runs over another transport
	mc     MessageConn // conn, or that transport
	opts   ClientOptions
	log    *slog.Logger
	amf3   bool
	result *message.Command
	wg     sync.WaitGroup

	mu      sync.Mutex
	nextTx  float64
	pending map[float64]chan *message.Command
	waiters map[uint32][]statusWaiter
}

// Dial connects to rawURL (rtmp://host[:port]/app[/instance]; the path is
// the app, the whole URL the tcUrl), runs the handshake and connect. The
// schemes rtmps (TLS), rtmpt and rtmpts (the HTTP tunnel) and rtmpe and
// rtmpte (the encrypted handshake) pick the transport.
func Dial(ctx context.Context, rawURL string, opts ClientOptions) (*Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if _, ok := defaultPorts[u.Scheme]; !ok {
		return nil, fmt.Errorf("rtmp: unsupported scheme %q", u.Scheme)
	}
	if u.Scheme == "rtmpe" || u.Scheme == "rtmpte" {
		opts.Handshake.Mode = handshake.Encrypted
	}
	cfg := opts.Config
	if cfg.PingInterval == 0 {
		cfg.PingInterval = -1 // servers ping clients, not the reverse
	}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	nc, err := dialTransport(ctx, u, opts.TLSConfig)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(cfg.HandshakeTimeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	nc.SetDeadline(deadline)
	rw, err := handshake.Client(nc, opts.Handshake)
	if err != nil {
		nc.Close()
		return nil, err
	}
	nc.SetDeadline(time.Time{})

	conn := NewConn(context.Background(), nc, rw, cfg, log)
	conn.Admit() // the server we dialled is not held to a stranger's budget
	c, err := NewClient(ctx, conn, u, opts)
	if c != nil {
		c.conn = conn
	}
	return c, err
}

// MessageConn is what a Client sends its commands over: an RTMP Conn, or
// another transport's connection (RTMFP's rtmfp.Conn).
type MessageConn interface {
	ReadMessage() (*message.Message, error)
	WriteMessage(m *message.Message) error
	Close() error
	Done() <-chan struct{}
	Err() error
}

// NewClient runs connect over mc, an open connection to u (whose path is
// the app, the whole URL the tcUrl), and returns the client. On error mc
// is closed.
func NewClient(ctx context.Context, mc MessageConn, u *url.URL, opts ClientOptions) (*Client, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Client{
		mc:      mc,
		opts:    opts,
		log:     log,
		amf3:    opts.ObjectEncoding == 3,
		pending: make(map[float64]chan *message.Command),
		waiters: make(map[uint32][]statusWaiter),
	}
	c.wg.Go(c.dispatch)

	flashVer := opts.FlashVer
	if flashVer == "" {
		flashVer = DefaultFlashVer
	}
	tcURL := *u
	tcURL.RawQuery, tcURL.Fragment = "", ""
	obj := amf.NewObject(
		"app", strings.TrimPrefix(u.Path, "/"),
		"flashVer", flashVer,
		"tcUrl", tcURL.String(),
		"fpad", false,
		"capabilities", 15.0,
		"audioCodecs", 3575.0,
		"videoCodecs", 252.0,
		"videoFunction", 1.0,
		"objectEncoding", opts.ObjectEncoding,
	)
	if opts.SwfURL != "" {
		obj.Set("swfUrl", opts.SwfURL)
	}
	if opts.PageURL != "" {
		obj.Set("pageUrl", opts.PageURL)
	}
	res, err := c.invoke(ctx, 0, "connect", obj, opts.ConnectArgs)
	if err != nil {
		c.Close()
		return nil, err
	}
	c.result = res
	return c, nil
}

// Conn is the underlying RTMP connection (counters, raw writes); nil when
// the client runs over another transport (NewClient).
func (c *Client) Conn() *Conn { return c.conn }

// Done is closed when the connection (of any transport) has ended.
func (c *Client) Done() <-chan struct{} { return c.mc.Done() }

// Err is why the connection ended.
func (c *Client) Err() error { return c.mc.Err() }

// ConnectResult is the server's _result to connect.
func (c *Client) ConnectResult() *message.Command { return c.result }

// Close closes the connection and waits for the dispatch goroutine.
func (c *Client) Close() error {
	err := c.mc.Close()
	c.wg.Wait()
	return err
}

// Call invokes a NetConnection method (stream 0) with a null command
// object and waits for its _result (returned) or _error (*CallError).
func (c *Client) Call(ctx context.Context, name string, args ...any) (*message.Command, error) {
	return c.invoke(ctx, 0, name, nil, args)
}

// CreateStream asks for a message stream and returns its id.
func (c *Client) CreateStream(ctx context.Context) (uint32, error) {
	res, err := c.Call(ctx, "createStream")
	if err != nil {
		return 0, err
	}
	if len(res.Args) == 0 {
		return 0, fmt.Errorf("%w: createStream result has no stream id", message.ErrBadCommand)
	}
	id, ok := res.Args[0].(float64)
	if !ok || id < 0 || id > 1<<32-1 {
		return 0, fmt.Errorf("%w: createStream result %v", message.ErrBadCommand, res.Args[0])
	}
	return uint32(id), nil
}

// DeleteStream releases a message stream (no answer is expected).
func (c *Client) DeleteStream(streamID uint32) error {
	return c.send(0, &message.Command{Name: "deleteStream", Args: []any{float64(streamID)}})
}

// Publish publishes name on streamID (typ "live", "record" or "append") and
// waits for NetStream.Publish.Start; another code is a *StatusError.
func (c *Client) Publish(ctx context.Context, streamID uint32, name, typ string) error {
	cmd := &message.Command{Name: "publish", Args: []any{name, typ}}
	return c.streamCommand(ctx, streamID, cmd, "NetStream.Publish.Start", "NetStream.Publish.")
}

// Play plays name on streamID from the live point and waits for
// NetStream.Play.Start; an error-level status is a *StatusError.
func (c *Client) Play(ctx context.Context, streamID uint32, name string) error {
	cmd := &message.Command{Name: "play", Args: []any{name, -2.0}}
	return c.streamCommand(ctx, streamID, cmd, "NetStream.Play.Start", "NetStream.Play.Start")
}

// WriteAudio queues an audio message (an FLV audio tag body) on streamID.
func (c *Client) WriteAudio(streamID, ts uint32, payload []byte) error {
	return c.mc.WriteMessage(&message.Message{Type: message.TypeAudio, Timestamp: ts, StreamID: streamID, Payload: payload})
}

// WriteVideo queues a video message (an FLV video tag body) on streamID.
func (c *Client) WriteVideo(streamID, ts uint32, payload []byte) error {
	return c.mc.WriteMessage(&message.Message{Type: message.TypeVideo, Timestamp: ts, StreamID: streamID, Payload: payload})
}

// WriteData queues an AMF0 data message (e.g. "@setDataFrame", "onMetaData", obj).
func (c *Client) WriteData(streamID, ts uint32, vals ...any) error {
	p, err := amf.Encode0(nil, vals...)
	if err != nil {
		return err
	}
	return c.mc.WriteMessage(&message.Message{Type: message.TypeDataAMF0, Timestamp: ts, StreamID: streamID, Payload: p})
}

// Respond answers a server-initiated invoke with _result and the values.
func (c *Client) Respond(streamID uint32, txID float64, vals ...any) error {
	return c.send(streamID, &message.Command{Name: "_result", TxID: txID, Args: vals})
}

func (c *Client) send(streamID uint32, cmd *message.Command) error {
	cmd.AMF3 = c.amf3
	m, err := cmd.MarshalMessage(streamID)
	if err != nil {
		return err
	}
	return c.mc.WriteMessage(m)
}

func (c *Client) invoke(ctx context.Context, streamID uint32, name string, obj any, args []any) (*message.Command, error) {
	ch := make(chan *message.Command, 1)
	c.mu.Lock()
	c.nextTx++
	tx := c.nextTx
	c.pending[tx] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, tx)
		c.mu.Unlock()
	}()
	if err := c.send(streamID, &message.Command{Name: name, TxID: tx, Object: obj, Args: args}); err != nil {
		return nil, err
	}
	answer := func(res *message.Command) (*message.Command, error) {
		if res.Name == "_error" {
			return res, &CallError{Name: name, Command: res}
		}
		return res, nil
	}
	select {
	case res := <-ch:
		return answer(res)
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.mc.Done():
		// A server that answers and closes (a rejected connect) closes the
		// Conn before dispatch hands the answer over: let dispatch drain.
		c.wg.Wait()
		select {
		case res := <-ch:
			return answer(res)
		default:
		}
		return nil, c.mc.Err()
	}
}

func (c *Client) streamCommand(ctx context.Context, streamID uint32, cmd *message.Command, want, prefix string) error {
	w := statusWaiter{
		match: func(code, level string) bool { return strings.HasPrefix(code, prefix) || level == "error" },
		ch:    make(chan *amf.Object, 1),
	}
	c.mu.Lock()
	c.waiters[streamID] = append(c.waiters[streamID], w)
	c.mu.Unlock()
	if err := c.send(streamID, cmd); err != nil {
		return err
	}
	select {
	case info := <-w.ch:
		if code := info.GetString("code"); code != want {
			return &StatusError{Code: code, Level: info.GetString("level"), Description: info.GetString("description")}
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.mc.Done():
		return c.mc.Err()
	}
}

func (c *Client) dispatch() {
	for {
		m, err := c.mc.ReadMessage()
		if err != nil {
			if !errors.Is(err, ErrClosed) {
				c.log.Info("closed", "err", err)
			}
			return
		}
		if m.Type != message.TypeCommandAMF0 && m.Type != message.TypeCommandAMF3 {
			if c.opts.OnMessage != nil {
				c.opts.OnMessage(m)
			}
			continue
		}
		cmd, err := message.ParseCommand(m)
		if err != nil {
			c.log.Warn("bad command from server", "err", err)
			continue
		}
		switch cmd.Name {
		case "_result", "_error":
			c.mu.Lock()
			ch := c.pending[cmd.TxID]
			c.mu.Unlock()
			if ch != nil {
				select {
				case ch <- cmd:
				default: // a duplicate answer
				}
				continue
			}
		case "onStatus":
			c.status(m.StreamID, cmd)
			continue
		}
		if c.opts.OnCommand != nil {
			c.opts.OnCommand(cmd, m)
		}
	}
}

func (c *Client) status(streamID uint32, cmd *message.Command) {
	info := cmd.StatusObject()
	if info == nil {
		return
	}
	code, level := info.GetString("code"), info.GetString("level")
	c.mu.Lock()
	ws := c.waiters[streamID]
	for i, w := range ws {
		if w.match(code, level) {
			w.ch <- info
			c.waiters[streamID] = append(ws[:i:i], ws[i+1:]...)
			break
		}
	}
	c.mu.Unlock()
	if c.opts.OnStatus != nil {
		c.opts.OnStatus(streamID, info)
	}
}
