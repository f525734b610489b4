package session

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/flashvox/flashvox/amf"
)

// Access model (docs/SECURITY.md). Every application is listed in
// Options.Apps; a connect to any other name is refused. A live application
// (LiveApp) is a namespace of plain publish/play whose publish and play
// each follow a Policy; the built-in applications (phone, sip) have their
// own rules. Whatever the application, a play with ?codec= starts or joins
// a transcoder only as its Transcode policy and Options.MaxTranscoders allow.
// All of it is decided here, in the session, so RTMP, its tunnels and
// RTMFP obey the same rules.

// Policy says who may publish or who may play in a live application.
type Policy string

// Policies of a live application.
const (
	PolicyOpen  Policy = "open"  // anyone
	PolicyToken Policy = "token" // a client with a valid flashvox token
	PolicyHook  Policy = "hook"  // the HTTP hooks decide (Options.Hooks must be set)
	PolicyKey   Policy = "key"   // NAME?key=SECRET, SECRET from LiveApp.Keys[NAME]
	PolicyDeny  Policy = "deny"  // nobody; the zero Policy is deny too
)

// TranscodePolicy says who may make the server transcode (play NAME?codec=C).
type TranscodePolicy string

// Transcoding policies; the zero value is TranscodeToken.
const (
	TranscodeOpen  TranscodePolicy = "open"  // anyone
	TranscodeToken TranscodePolicy = "token" // signed-in users: phone/sip users and token-carrying connections
	TranscodeOff   TranscodePolicy = "off"   // nobody
)

// TokenVerifier checks a flashvox token and names its user (*account.Auth).
type TokenVerifier interface {
	Verify(token string) (user string, err error)
}

// Throttle slows the guessing of secrets (package throttle): Check before
// a secret is compared, Fail or Succeed after.
type Throttle interface {
	Check(addr, account string) time.Duration
	Fail(addr, account string)
	Succeed(addr, account string)
}

// Identified is an AppConn whose connection proved who its user is; its
// connections may transcode under TranscodeToken.
type Identified interface {
	User() string
}

// PlayWatcher is an AppConn whose permission to play a name can end while
// the play runs (a conference member kicked): PlayEnds returns a channel
// closed when it ends, nil if it never does. The session then stops the
// play with NetStream.Play.Stop.
type PlayWatcher interface {
	PlayEnds(name string) <-chan struct{}
}

// Stats count the session layer's access decisions; safe for concurrent use.
type Stats struct {
	TranscodeRefused atomic.Uint64 // ?codec= plays refused: policy or budget
	AccessRefused    atomic.Uint64 // publishes and plays refused by a live application's policy
}

// ErrUnknownApp rejects a connect to an application that is not listed.
var ErrUnknownApp = errors.New("unknown application")

// errThrottled is a refused secret check; the text says when to retry.
type errThrottled time.Duration

func (e errThrottled) Error() string {
	return fmt.Sprintf("too many failed attempts, retry in %s", time.Duration(e).Round(time.Second)+time.Second)
}

// LiveApp is plain publish/play by name inside the application's
// namespace: rtmp://host/APP/NAME is hub key "APP/NAME". Register it in
// Options.Apps under APP; APP must not be a namespace of the built-in
// applications' streams (config refuses phone, sip, conf, sipecho).
type LiveApp struct {
	Publish, Play Policy
	// Keys are the per-stream secrets of PolicyKey: NAME -> SECRET.
	Keys map[string]string
	// Tokens verifies PolicyToken's tokens; nil refuses every token.
	Tokens TokenVerifier
	// Guard, when set, slows the guessing of tokens and keys.
	Guard Throttle
	// PlayWait bounds how long a player waits for a name nobody publishes
	// before NetStream.Play.StreamNotFound ends its play (0: for ever).
	PlayWait time.Duration
}

// Open is a LiveApp anyone may publish to and play from (tests, demos).
func Open() *LiveApp { return &LiveApp{Publish: PolicyOpen, Play: PolicyOpen} }

// Connect admits everyone; a token presented at connect (arguments (user,
// token) or {user, token}, or token= in the app's or tcUrl's query string)
// must be valid, and signs the connection in.
func (a *LiveApp) Connect(_ context.Context, s *Session, obj *amf.Object, args []any) (AppConn, error) {
	c := &liveConn{app: a, s: s, ns: s.app}
	user, token := connectToken(obj, args)
	if token == "" {
		return c, nil
	}
	u, err := c.verifyToken(user, token)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.app, err)
	}
	c.user = u
	return c, nil
}

// connectToken finds a token in connect's arguments or query strings.
func connectToken(obj *amf.Object, args []any) (user, token string) {
	if len(args) >= 2 {
		u, _ := args[0].(string)
		t, _ := args[1].(string)
		if strings.HasPrefix(t, "v1.") {
			return u, t
		}
	}
	if len(args) >= 1 {
		if o, ok := args[0].(*amf.Object); ok && isFlashvoxToken(o.GetString("token")) {
			return o.GetString("user"), o.GetString("token")
		}
	}
	for _, raw := range []string{obj.GetString("app"), obj.GetString("tcUrl")} {
		if _, q, ok := strings.Cut(raw, "?"); ok {
			if v, err := url.ParseQuery(q); err == nil && isFlashvoxToken(v.Get("token")) {
				return v.Get("user"), v.Get("token")
			}
		}
	}
	return "", ""
}

// isFlashvoxToken tells a flashvox token (v1.USER.EXPIRY.SIG) from a
// site's own token= for its hooks, which the live application leaves to
// the hooks.
func isFlashvoxToken(t string) bool { return strings.HasPrefix(t, "v1.") }

// liveConn is one connection of a LiveApp; its methods run on the
// session's Serve goroutine.
type liveConn struct {
	app  *LiveApp
	s    *Session
	ns   string // the hub namespace: the app name as connected (APP or APP/INSTANCE)
	user string // signed in by a token, "" = anonymous
}

func (*liveConn) Call(context.Context, string, []any) (any, error) { return nil, ErrUnknownMethod }
func (c *liveConn) Publish(name string) (string, error)            { return c.key(name) }
func (c *liveConn) Play(name string) (string, error)               { return c.key(name) }
func (*liveConn) Close()                                           {}

// User is the token's user, "" for an anonymous connection.
func (c *liveConn) User() string { return c.user }

// key maps a stream name to its hub key. A name with '#' could name a
// transcoder's output stream (transcode.Key), so it is refused.
func (c *liveConn) key(name string) (string, error) {
	if name == "" || len(name) > 256 || strings.ContainsAny(name, "#\x00\r\n") {
		return "", errors.New("invalid stream name")
	}
	return c.ns + "/" + name, nil
}

// authorize applies the publish or play policy to a stream request (the
// name as asked, before any hook renamed it).
func (c *liveConn) authorize(publish bool, name, query string) error {
	p, what := c.app.Play, "play"
	if publish {
		p, what = c.app.Publish, "publish"
	}
	var err error
	switch p {
	case PolicyOpen:
		err = c.queryToken(query, false)
	case PolicyHook: // the hooks ran before and allowed; without hooks, nobody decides
		if c.s.opts.Hooks == nil {
			err = fmt.Errorf("%s: %s needs the HTTP hooks, which are off", c.s.app, what)
		} else {
			err = c.queryToken(query, false)
		}
	case PolicyToken:
		err = c.queryToken(query, true)
	case PolicyKey:
		if err = c.authorizeKey(name, query); err == nil {
			err = c.queryToken(query, false)
		}
	default:
		err = fmt.Errorf("%s: %s is not allowed in this application", c.s.app, what)
	}
	if err != nil && c.s.opts.Stats != nil {
		c.s.opts.Stats.AccessRefused.Add(1)
	}
	return err
}

// queryToken verifies a token= of the stream name's query string, which
// signs the connection in (for transcoding too, whatever the policy); a
// bad one refuses. required refuses a connection without any token; when
// a token is not required, one that is no flashvox token (v1.…) is the
// hooks' business and ignored here.
func (c *liveConn) queryToken(query string, required bool) error {
	v, _ := url.ParseQuery(query)
	if t := v.Get("token"); t != "" && (required || isFlashvoxToken(t)) {
		u, err := c.verifyToken(v.Get("user"), t)
		if err != nil {
			return fmt.Errorf("%s: %w", c.s.app, err)
		}
		c.user = u
		return nil
	}
	if required && c.user == "" {
		return fmt.Errorf("%s: a token is required (connect with user and token, or NAME?token=T)", c.s.app)
	}
	return nil
}

// verifyToken checks token (and that it is user's, when user is given),
// throttled per address and account.
func (c *liveConn) verifyToken(user, token string) (string, error) {
	account := user
	if account == "" {
		account = "app/" + c.s.app
	}
	if err := c.check(account); err != nil {
		return "", err
	}
	if c.app.Tokens == nil {
		return "", errors.New("tokens are not accepted here")
	}
	u, err := c.app.Tokens.Verify(token)
	if err == nil && user != "" && u != user {
		err = errors.New("token is for another user")
	}
	c.report(account, err == nil)
	if err != nil {
		return "", err
	}
	return u, nil
}

func (c *liveConn) authorizeKey(name, query string) error {
	account := "app/" + c.s.app
	if err := c.check(account); err != nil {
		return fmt.Errorf("%s: %w", c.s.app, err)
	}
	v, _ := url.ParseQuery(query)
	want, ok := c.app.Keys[name]
	got := v.Get("key")
	// Compare in constant time, also for names without a key.
	good := subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1 && ok && got != ""
	c.report(account, good)
	if !good {
		return fmt.Errorf("%s: a valid stream key is required (NAME?key=SECRET)", c.s.app)
	}
	return nil
}

// check asks the throttle whether a secret may be checked now.
func (c *liveConn) check(account string) error {
	if c.app.Guard == nil {
		return nil
	}
	if wait := c.app.Guard.Check(c.s.RemoteAddr(), account); wait > 0 {
		return errThrottled(wait)
	}
	return nil
}

func (c *liveConn) report(account string, ok bool) {
	if c.app.Guard == nil {
		return
	}
	if ok {
		c.app.Guard.Succeed(c.s.RemoteAddr(), account)
	} else {
		c.app.Guard.Fail(c.s.RemoteAddr(), account)
	}
}

// authorizeStream applies a live application's policy; other
// applications decide in their own Publish/Play.
func (s *Session) authorizeStream(publish bool, name, query string) error {
	if lc, ok := s.appConn.(*liveConn); ok {
		return lc.authorize(publish, name, query)
	}
	return nil
}

// user is who the connection signed in as, "" when anonymous.
func (s *Session) user() string {
	if id, ok := s.appConn.(Identified); ok {
		return id.User()
	}
	return ""
}

// mayTranscode applies the application's transcoding policy.
func (s *Session) mayTranscode() error {
	switch s.opts.Transcode[s.appName] {
	case TranscodeOpen:
		return nil
	case TranscodeOff:
		return errors.New("transcoding (?codec=) is off in this application")
	}
	if s.user() == "" {
		return errors.New("transcoding (?codec=) needs a signed-in user: connect with user and token, or play NAME?codec=C&token=T")
	}
	return nil
}

// redactURL drops the query string (stream keys, tokens) and any user
// information from a URL for the log.
func redactURL(raw string) string {
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		raw = raw[:i]
	}
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		u.User = nil
		return u.String()
	}
	return raw
}
