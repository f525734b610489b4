package session

import (
	"context"
	"net"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/flashvox/flashvox/amf"
)

// Hooks is an outside authority consulted for every application before the
// App's own rules, like nginx-rtmp's on_connect/on_publish/on_play: it may
// refuse a connection, refuse a stream, or rename one. It runs on the
// session's Serve goroutine (one per connection, so a slow hook delays only
// its own client) and must return within a bounded time; ctx ends with the
// connection. package hooks implements it over HTTP.
type Hooks interface {
	// Connect admits a connection; an error rejects it with
	// NetConnection.Connect.Rejected and the error text.
	Connect(ctx context.Context, c *ConnInfo) error
	// Publish returns the name to publish (r.Name or a new one); an error
	// refuses with NetStream.Publish.BadName.
	Publish(ctx context.Context, c *ConnInfo, r StreamRequest) (name string, err error)
	// Play returns the name to play (r.Name or a new one); an error refuses
	// with NetStream.Play.Failed.
	Play(ctx context.Context, c *ConnInfo, r StreamRequest) (name string, err error)
}

// ConnInfo describes a connection to Hooks: connect's command object and
// the peer's address, with nginx-rtmp's field meanings.
type ConnInfo struct {
	ClientID uint64 // unique per process, as nginx-rtmp's clientid
	Addr     string // peer IP, no port
	App      string // application without query string
	Args     string // query string of app or tcUrl (rtmp://host/app?ARGS), raw
	TCURL    string
	FlashVer string
	SWFURL   string
	PageURL  string
}

// StreamRequest is a publish or play as the client asked for it.
type StreamRequest struct {
	Name string // stream name without query string
	Args string // query string of the name (NAME?ARGS), raw
	Type string // publish: live, record or append
	// Play: start, duration and reset arguments of play.
	Start, Duration float64
	Reset           bool
}

// clientIDs numbers connections for ConnInfo.ClientID.
var clientIDs atomic.Uint64

// connInfo builds the hooks' view of a connect command.
func (s *Session) connInfo(app string, obj *amf.Object) *ConnInfo {
	ci := &ConnInfo{
		ClientID: clientIDs.Add(1),
		App:      app,
		TCURL:    obj.GetString("tcUrl"),
		FlashVer: obj.GetString("flashVer"),
		SWFURL:   obj.GetString("swfUrl"),
		PageURL:  obj.GetString("pageUrl"),
	}
	if _, q, ok := strings.Cut(obj.GetString("app"), "?"); ok {
		ci.Args = q
	} else if u, err := url.Parse(ci.TCURL); err == nil {
		ci.Args = u.RawQuery
	}
	ci.Addr = s.RemoteAddr()
	if host, _, err := net.SplitHostPort(ci.Addr); err == nil {
		ci.Addr = host
	}
	return ci
}

// hookConnect asks Options.Hooks, when set, to admit the connection.
func (s *Session) hookConnect(app string, obj *amf.Object) error {
	if s.opts.Hooks == nil {
		return nil
	}
	s.hookInfo = s.connInfo(app, obj)
	return s.opts.Hooks.Connect(s.ctx, s.hookInfo)
}

// hookPublish returns the name to publish: base, or the hook's new name.
func (s *Session) hookPublish(r StreamRequest) (string, error) {
	if s.opts.Hooks == nil {
		return r.Name, nil
	}
	name, err := s.opts.Hooks.Publish(s.ctx, s.hookInfo, r)
	if err == nil && name != r.Name {
		s.log.Info("publish renamed by hook", "name", r.Name, "to", name)
	}
	return name, err
}

// hookPlay returns the name to play: base, or the hook's new name.
func (s *Session) hookPlay(r StreamRequest) (string, error) {
	if s.opts.Hooks == nil {
		return r.Name, nil
	}
	name, err := s.opts.Hooks.Play(s.ctx, s.hookInfo, r)
	if err == nil && name != r.Name {
		s.log.Info("play renamed by hook", "name", r.Name, "to", name)
	}
	return name, err
}
