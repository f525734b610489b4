// Package phoneapp is the RTMP application "phone" (rtmp://HOST/phone): a
// web phone connects with its user and token (or password; the session
// then lasts auth.token_ttl), is disconnected when its token expires or is
// revoked (after an onSessionEnd invoke), places and
// answers calls with NetConnection.call, gets call events pushed as
// server-side invokes, and may publish and play only the stream names the
// server issued to it for its current call. Signalling is package call's;
// this package maps it to RTMP.
package phone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/conference"
	"github.com/flashvox/flashvox/events"
	"github.com/flashvox/flashvox/session"
)

// Name is the application name the phone app is registered under.
const Name = "phone"

// App is the phone application; register it in session.Options.Apps[Name].
type App struct {
	Calls *call.Service
	Auth  *account.Auth
	// Conferences serves joinConference and the other room methods; nil: none.
	Conferences *conference.Service
	// Guard slows password and token guessing (package throttle); nil: not slowed.
	Guard  account.Guard
	Logger *slog.Logger
}

// errNoCredentials is the rejection of a connect without user and secret.
var errNoCredentials = errors.New("phone: connect needs arguments (user, token) or (user, password), or an object {user, token} or {user, password}")

// credentials are what connect carried.
type credentials struct {
	user, token, password string
}

// parseCredentials reads connect's arguments: two strings (user, then a
// token or a password: a token starts with "v1."), or one object with user
// and token or password.
func parseCredentials(args []any) (credentials, error) {
	var c credentials
	switch {
	case len(args) >= 2:
		u, ok1 := args[0].(string)
		secret, ok2 := args[1].(string)
		if !ok1 || !ok2 {
			return c, errNoCredentials
		}
		c.user = u
		if strings.HasPrefix(secret, "v1.") {
			c.token = secret
		} else {
			c.password = secret
		}
	case len(args) == 1:
		o, ok := args[0].(*amf.Object)
		if !ok {
			return c, errNoCredentials
		}
		c.user, c.token, c.password = o.GetString("user"), o.GetString("token"), o.GetString("password")
	}
	if c.user == "" || (c.token == "" && c.password == "") {
		return c, errNoCredentials
	}
	return c, nil
}

// Connect admits a connection whose credentials check out and makes it a
// device of its user.
func (a *App) Connect(ctx context.Context, s *session.Session, _ *amf.Object, args []any) (session.AppConn, error) {
	cr, err := parseCredentials(args)
	if err != nil {
		return nil, err
	}
	w, err := a.Auth.Authenticate(a.Guard, s.RemoteAddr(), account.Attempt{User: cr.user, Token: cr.token, Password: cr.password})
	if err != nil {
		return nil, fmt.Errorf("phone: %w", err)
	}
	log := a.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ev := a.Calls.Log(cr.user)
	c := &conn{
		calls:       a.Calls,
		conferences: a.Conferences,
		s:           s,
		events:      ev,
		cursor:      ev.Head(),
		watch:       w,
	}
	_, rtmfp := s.Transport().(peerTransport)
	kind := call.KindRTMP
	if t, ok := s.Transport().(tunnelled); ok && t.Tunnelled() {
		kind = call.KindRTMPT
	}
	if rtmfp {
		kind = call.KindRTMFP // the transport, as call records name it
	}
	c.dev = a.Calls.Attach(cr.user, kind)
	if rtmfp {
		a.Calls.SetDirect(c.dev) // RTMFP: its calls may go peer to peer
	}
	c.log = log.With("user", cr.user, "device", c.dev.ID)
	pctx, cancel := context.WithCancel(ctx)
	c.cancel = cancel
	c.wg.Go(func() { c.push(pctx) })
	c.wg.Go(func() { c.endWithToken(pctx) })
	return c, nil
}

// endWithToken closes the connection when its token expires or is
// revoked: the client first gets onSessionEnd({reason: "token_expired" or
// "token_revoked", description}), then the transport is closed (rtmp.Conn
// writes what is queued first).
func (c *conn) endWithToken(ctx context.Context) {
	select {
	case <-ctx.Done():
		return
	case <-c.watch.Done():
	}
	err := c.watch.Err()
	reason := "token_expired"
	if errors.Is(err, account.ErrTokenRevoked) {
		reason = "token_revoked"
	}
	c.log.Info("session ended with its token", "reason", reason)
	_ = c.s.Notify("onSessionEnd", amf.NewObject("reason", reason, "description", err.Error()))
	c.s.Close()
}

// tunnelled is an RTMP connection that can tell whether it runs over the
// RTMPT tunnel (rtmp.Conn).
type tunnelled interface{ Tunnelled() bool }

// peerTransport is an RTMFP session (rtmfp.Conn): a client that can take
// and open direct sessions with other peers.
type peerTransport interface {
	PeerID() string
	NearID() string
}

// conn is one phone connection. Call/Publish/Play/Close run on the
// session's Serve goroutine; push runs on its own and only reads.
type conn struct {
	calls  *call.Service
	s      *session.Session
	dev    *call.Device
	log    *slog.Logger
	events *events.Log
	cursor uint64 // first event pushed: the log's head at connect
	cancel context.CancelFunc
	wg     sync.WaitGroup
	watch  *account.Watch // the session's token (or, for a password, auth.token_ttl)
	// conferences and the rooms this connection joined (by room name).
	conferences *conference.Service
	members     map[string]*conference.Member
}

// Publish allows only the name issued to this user for its active call,
// or for one of its conference memberships.
func (c *conn) Publish(name string) (string, error) {
	key, err := c.calls.StreamKey(c.dev.User, name, true)
	if err != nil {
		return c.conferenceStream(name, true, err)
	}
	return key, nil
}

// Play allows only the other party's name of this user's active call, or
// a conference stream issued to this user (its mix, or a relay room's others).
func (c *conn) Play(name string) (string, error) {
	key, err := c.calls.StreamKey(c.dev.User, name, false)
	if err != nil {
		return c.conferenceStream(name, false, err)
	}
	return key, nil
}

// Close stops the pushes, leaves the connection's rooms and detaches the
// device, which ends its calls.
func (c *conn) Close() {
	c.leaveConferences(true)
	c.cancel()
	c.wg.Wait()
	c.watch.Stop()
	c.calls.Detach(c.dev)
}
