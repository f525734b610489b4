package siprtmp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/events"
	"github.com/flashvox/flashvox/session"
)

// Name is the application name the sip app is registered under; it serves
// every rtmp://HOST/sip/USER@DOMAIN.
const Name = "sip"

// App is the siprtmp-compatible application; register it in
// session.Options.Apps[Name].
type App struct {
	Calls *call.Service
	Auth  *account.Auth
	// Domains are the SIP domains that are this server's (lower case). An
	// address in one of them, or in the host the client connected to
	// (tcUrl), names a user. Empty: every domain is taken as ours.
	Domains []string
	// Guard slows password and token guessing (package throttle); nil: not slowed.
	Guard  account.Guard
	Logger *slog.Logger
}

var errNoCredentials = errors.New("sip: connect needs arguments (authName, password or token[, displayName, rate])")

// connectArgs are siprtmp's connection arguments.
type connectArgs struct {
	authName, secret, display, rate string
}

func parseConnectArgs(args []any) connectArgs {
	var c connectArgs
	for i, p := range []*string{&c.authName, &c.secret, &c.display, &c.rate} {
		if i < len(args) {
			*p, _ = args[i].(string)
		}
	}
	return c
}

// ours returns the domain test of a connection that connected to tcHost.
func (a *App) ours(tcHost string) func(string) bool {
	return func(d string) bool {
		if len(a.Domains) == 0 || d == tcHost {
			return true
		}
		for _, o := range a.Domains {
			if strings.EqualFold(o, d) {
				return true
			}
		}
		return false
	}
}

// Connect admits rtmp://HOST/sip/USER@DOMAIN with (authName, secret,
// displayName, rate): USER must be a user of ours, authName (if given)
// must be USER, and secret its password or a token ("v1.…").
func (a *App) Connect(ctx context.Context, s *session.Session, obj *amf.Object, args []any) (session.AppConn, error) {
	_, inst, _ := strings.Cut(strings.Trim(obj.GetString("app"), "/"), "/")
	if i := strings.IndexByte(inst, '?'); i >= 0 {
		inst = inst[:i]
	}
	if inst == "" {
		return nil, errors.New("sip: connect to rtmp://HOST/sip/USER@DOMAIN")
	}
	aor, err := ParseAddress(inst)
	if err != nil || aor.Scheme == "tel" {
		return nil, fmt.Errorf("sip: %q: %w", inst, errAddressForm)
	}
	var tcHost string
	if u, err := url.Parse(obj.GetString("tcUrl")); err == nil {
		tcHost = strings.ToLower(u.Hostname())
	}
	ours := a.ours(tcHost)
	if aor.Host != "" && !ours(aor.Domain()) {
		return nil, fmt.Errorf("sip: domain %s is not served here (registering with other SIP servers is not supported); connect as USER@%s", aor.Domain(), tcHost)
	}
	user := aor.User
	if !account.ValidUserName(user) {
		return nil, fmt.Errorf("sip: %w: %q", account.ErrBadUser, user)
	}
	ca := parseConnectArgs(args)
	if ca.secret == "" {
		return nil, errNoCredentials
	}
	if ca.authName != "" && ca.authName != user {
		return nil, fmt.Errorf("sip: authentication name %q is not the address's user %q", ca.authName, user)
	}
	at := account.Attempt{User: user, Password: ca.secret}
	if strings.HasPrefix(ca.secret, "v1.") {
		at = account.Attempt{User: user, Token: ca.secret}
	}
	w, err := a.Auth.Authenticate(a.Guard, s.RemoteAddr(), at)
	if err != nil {
		return nil, fmt.Errorf("sip: %w", err)
	}
	log := a.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if aor.Host == "" {
		aor.Host = tcHost
	}
	aor.Scheme, aor.Display = "sip", ca.display
	ev := a.Calls.Log(user)
	c := &conn{
		calls:  a.Calls,
		s:      s,
		me:     aor,
		ours:   ours,
		events: ev,
		cursor: ev.Head(),
		watch:  w,
	}
	c.dev = a.Calls.Attach(user, call.KindRTMP)
	c.log = log.With("app", Name, "user", user, "device", c.dev.ID)
	pctx, cancel := context.WithCancel(ctx)
	c.cancel = cancel
	c.wg.Go(func() { c.push(pctx) })
	c.wg.Go(func() { c.endWithToken(pctx) })
	c.log.Info("sip line connected", "aor", aor.String(), "rate", ca.rate)
	return c, nil
}

// endWithToken closes the connection when its token expires or is revoked
// (siprtmp's client API has no event for it: the client sees
// NetConnection.Connect.Closed, as when the server goes away).
func (c *conn) endWithToken(ctx context.Context) {
	select {
	case <-ctx.Done():
		return
	case <-c.watch.Done():
	}
	c.log.Info("session ended with its token", "why", c.watch.Err())
	c.s.Close()
}

// line states of a connection's one call.
const (
	lineIdle = iota
	lineOutgoing
	lineIncoming
	lineActive
)

// conn is one sip connection: a single-line phone.
type conn struct {
	calls  *call.Service
	s      *session.Session
	dev    *call.Device
	me     Address
	ours   func(string) bool
	log    *slog.Logger
	events *events.Log
	cursor uint64
	cancel context.CancelFunc
	wg     sync.WaitGroup
	watch  *account.Watch // the session's token (or, for a password, auth.token_ttl)

	mu        sync.Mutex
	state     int
	id        string   // the call on the line
	peer      string   // the other party's address, as told in invited
	codecs    []string // codec list the client gave in invite/accept
	ownEnd    bool     // this connection ended the call: no callback for it
	pub, play string   // issued stream names while active
}

// User is the line's signed-in user (it may transcode: session.Identified).
func (c *conn) User() string { return c.dev.User }

// Close stops the pushes and detaches the device, which ends its call.
func (c *conn) Close() {
	c.cancel()
	c.wg.Wait()
	c.watch.Stop()
	c.calls.Detach(c.dev)
}

// Publish maps "local" to this line's issued publish name.
func (c *conn) Publish(name string) (string, error) {
	if name != "local" {
		return "", fmt.Errorf("sip: publish the stream named local, not %q", name)
	}
	c.mu.Lock()
	pub, state := c.pub, c.state
	c.mu.Unlock()
	if state != lineActive {
		return "", errNoActiveCall
	}
	return c.calls.StreamKey(c.dev.User, pub, true)
}

// Play maps "remote" to the other party's stream of the active call.
func (c *conn) Play(name string) (string, error) {
	if name != "remote" {
		return "", fmt.Errorf("sip: play the stream named remote, not %q", name)
	}
	c.mu.Lock()
	play, state := c.play, c.state
	c.mu.Unlock()
	if state != lineActive {
		return "", errNoActiveCall
	}
	return c.calls.StreamKey(c.dev.User, play, false)
}

var errNoActiveCall = errors.New("sip: no active call")
