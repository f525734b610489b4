package session

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/rtmp/message"
)

// connect answers NetConnection.connect the way Flash Media Server does:
// window ack size, peer bandwidth, StreamBegin 0, then _result with the
// server properties and the information object carrying objectEncoding.
func (s *Session) connect(c *message.Command) error {
	if s.connected {
		return fmt.Errorf("%w: second connect", ErrProtocol)
	}
	obj, _ := c.Object.(*amf.Object)
	if obj == nil {
		return s.rejectConnect(c, "connect needs a command object")
	}
	app := strings.Trim(obj.GetString("app"), "/")
	if i := strings.IndexByte(app, '?'); i >= 0 {
		app = app[:i] // tcUrl-style query strings some clients append
	}
	if app == "" {
		return s.rejectConnect(c, "connect needs an application name")
	}
	name := app
	a := s.opts.Apps[app]
	if i := strings.IndexByte(app, '/'); a == nil && i > 0 {
		// rtmp://host/APP/INSTANCE: an app registered by its first path
		// segment serves every instance (the sip app's USER@DOMAIN).
		name = app[:i]
		a = s.opts.Apps[name]
	}
	if a == nil {
		// Only listed applications exist: conference and call streams
		// live in namespaces no listed application maps to.
		return s.rejectConnect(c, ErrUnknownApp.Error())
	}
	s.app, s.appName = app, name
	if s.opts.Redirect != nil {
		if to := s.opts.Redirect(app, s.t); to != "" {
			return s.redirectConnect(c, to)
		}
	}
	if err := s.hookConnect(app, obj); err != nil {
		return s.rejectConnect(c, err.Error())
	}
	ac, err := a.Connect(s.ctx, s, obj, c.Args)
	if err != nil {
		return s.rejectConnect(c, err.Error())
	}
	s.appConn = ac
	enc, _ := obj.GetNumber("objectEncoding")
	s.mu.Lock()
	s.amf3 = enc == 3 || c.AMF3
	s.mu.Unlock()
	s.connected = true
	if a, ok := s.t.(admitter); ok {
		a.Admit()
	}
	s.log = s.log.With("app", app)
	for _, m := range []*message.Message{
		message.WindowAckSizeMessage(windowAckSize),
		message.SetPeerBandwidthMessage(peerBandwidth, 2),
		message.UserControl{Event: message.EventStreamBegin, StreamID: 0}.Message(),
	} {
		if err := s.t.WriteMessage(m); err != nil {
			return err
		}
	}
	props := amf.NewObject("fmsVer", fmsVersion, "capabilities", float64(fmsCapabilites), "mode", 1.0)
	inf := statusInfo(codeConnectSuccess, "Connection succeeded.",
		"objectEncoding", float64(objectEncoding(s.amf3)),
		"data", &amf.ECMAArray{Props: []amf.Prop{{Key: "version", Value: "3,5,7,7009"}}})
	// Never the query string: it carries stream keys and tokens.
	s.log.Info("connected", "tcUrl", redactURL(obj.GetString("tcUrl")), "flashVer", obj.GetString("flashVer"), "objectEncoding", objectEncoding(s.amf3))
	return s.send(0, "_result", c.TxID, props, inf)
}

// admitter is a transport that holds a peer to a smaller buffer budget
// until its connect is admitted (rtmp.Conn).
type admitter interface{ Admit() }

func objectEncoding(amf3 bool) int {
	if amf3 {
		return 3
	}
	return 0
}

// rejectConnect refuses the connect (counted, logged rate-limited) and
// ends the session.
func (s *Session) rejectConnect(c *message.Command, why string) error {
	s.refused(slog.LevelInfo, "connect", "connect refused", "app", s.app, "why", why)
	_ = s.send(0, "_error", c.TxID, nil, errorInfo(codeConnectRejected, why))
	return fmt.Errorf("%w: %w: %s", ErrProtocol, ErrConnectRejected, why)
}

// redirectConnect rejects the connect with a redirection to url, as FMS
// does: {code: NetConnection.Connect.Rejected, description, ex: {code: 302,
// redirect: url}}; the description names url too, for clients (ffmpeg,
// rtmpdump) that print only it.
func (s *Session) redirectConnect(c *message.Command, url string) error {
	s.refused(slog.LevelInfo, "redirect", "connect redirected", "app", s.app, "to", url)
	_ = s.send(0, "_error", c.TxID, nil, errorInfo(codeConnectRejected, "redirected to "+url,
		"ex", amf.NewObject("code", 302.0, "redirect", url)))
	return fmt.Errorf("%w: %w: redirected to %s", ErrProtocol, ErrConnectRejected, url)
}

// rejectLinger is how long a refused connection is still read (and what it
// sends discarded) after the refusal. Clients such as ffmpeg send their
// next commands without waiting for connect's answer; closing a socket
// with unread data makes the kernel send a reset, which can destroy the
// refusal before the client reads it ("Broken pipe" instead of the reason).
const rejectLinger = time.Second

// linger reads and drops messages until the peer closes or rejectLinger
// passes, then closes the transport if it can be closed.
func (s *Session) linger() {
	if _, ok := s.t.(io.Closer); !ok {
		return
	}
	stop := time.AfterFunc(rejectLinger, s.Close)
	defer stop.Stop()
	for {
		if _, err := s.t.ReadMessage(); err != nil {
			return
		}
	}
}

// refused logs a refusal a client can repeat at will through
// Options.Refusals (one line per cause per interval), with the client's
// address.
func (s *Session) refused(level slog.Level, cause, msg string, args ...any) {
	s.opts.Refusals.Log(level, cause, msg, append(args, "remote", s.RemoteAddr())...)
}

// result answers a command that carries a transaction id; commands sent
// with id 0 expect no answer.
func (s *Session) result(c *message.Command, v any) error {
	if c.TxID == 0 {
		return nil
	}
	return s.send(0, "_result", c.TxID, nil, v)
}

func (s *Session) callFailed(c *message.Command, why string) error {
	if c.TxID == 0 {
		s.refused(slog.LevelInfo, "command", "command refused", "app", s.app, "name", c.Name, "why", why)
		return nil
	}
	return s.send(0, "_error", c.TxID, nil, errorInfo(codeCallFailed, why))
}

func (s *Session) onStatus(streamID uint32, inf *amf.Object) error {
	return s.send(streamID, "onStatus", 0, nil, inf)
}

// send writes a command message in the connection's object encoding.
func (s *Session) send(streamID uint32, name string, tx float64, obj any, args ...any) error {
	c := &message.Command{Name: name, TxID: tx, Object: obj, Args: args, AMF3: s.amf3}
	m, err := c.MarshalMessage(streamID)
	if err != nil {
		return fmt.Errorf("session: encode %s: %w", name, err)
	}
	return s.t.WriteMessage(m)
}

// Invoke calls a method on the client (server-to-client NetConnection call)
// and waits for its _result or _error. Safe from any goroutine.
func (s *Session) Invoke(ctx context.Context, name string, args ...any) (*message.Command, error) {
	s.mu.Lock()
	tx := s.nextTx
	s.nextTx++
	ch := make(chan *message.Command, 1)
	s.pending[tx] = ch
	amf3 := s.amf3
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pending, tx)
		s.mu.Unlock()
	}()
	c := &message.Command{Name: name, TxID: tx, Args: args, AMF3: amf3}
	m, err := c.MarshalMessage(0)
	if err != nil {
		return nil, fmt.Errorf("session: encode %s: %w", name, err)
	}
	if err := s.t.WriteMessage(m); err != nil {
		return nil, err
	}
	select {
	case r, ok := <-ch:
		if !ok {
			return nil, fmt.Errorf("session: invoke %s: connection closed", name)
		}
		if r.Name == "_error" {
			return r, fmt.Errorf("session: invoke %s: client answered _error", name)
		}
		return r, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Notify sends a server-to-client call that expects no answer (tx 0).
func (s *Session) Notify(name string, args ...any) error {
	s.mu.Lock()
	amf3 := s.amf3
	s.mu.Unlock()
	c := &message.Command{Name: name, Args: args, AMF3: amf3}
	m, err := c.MarshalMessage(0)
	if err != nil {
		return err
	}
	return s.t.WriteMessage(m)
}

func (s *Session) deliver(c *message.Command) {
	s.mu.Lock()
	ch := s.pending[c.TxID]
	delete(s.pending, c.TxID)
	s.mu.Unlock()
	if ch != nil {
		ch <- c
		return
	}
	s.log.Debug("unmatched result", "tx", c.TxID)
}

func (s *Session) failPending() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for tx, ch := range s.pending {
		close(ch)
		delete(s.pending, tx)
	}
}
