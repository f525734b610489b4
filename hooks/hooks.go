// Package hooks asks a site's own HTTP service whether an RTMP connection may
// connect, publish or play, the way nginx-rtmp's on_connect, on_publish and
// on_play do, so sites with their own user database need not copy it into
// flashvox. Each hook POSTs an application/x-www-form-urlencoded form with
// nginx-rtmp's field names; 2xx allows, 3xx allows and (publish, play)
// renames the stream to the Location header, anything else refuses. A hook
// that times out or cannot be reached refuses too.
package hooks

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/flashvox/flashvox/session"
)

// Limits on what a hook service may send back.
const (
	// maxBody is read and discarded so a small answer keeps its connection
	// for reuse; a longer body is cut off and its connection closed.
	maxBody = 4 << 10
	// maxHeader bounds the response head (status line and headers).
	maxHeader = 16 << 10
	// maxName is the longest stream name a redirect may give (nginx-rtmp's
	// NGX_RTMP_MAX_NAME).
	maxName = 256
	// DefaultTimeout bounds one hook request when Options.Timeout is 0.
	DefaultTimeout = 2 * time.Second
)

// Options configure the hooks; an empty URL turns that hook off.
type Options struct {
	OnConnect string
	OnPublish string
	OnPlay    string
	// Timeout bounds each request from dial to the end of the body read.
	Timeout time.Duration
	Logger  *slog.Logger
}

// Enabled reports whether any hook is on.
func (o Options) Enabled() bool { return o.OnConnect != "" || o.OnPublish != "" || o.OnPlay != "" }

// Client calls the configured hooks. It implements session.Hooks and is
// safe for concurrent use by every session.
type Client struct {
	o    Options
	http *http.Client
	log  *slog.Logger
}

var _ session.Hooks = (*Client)(nil)

// New returns a Client for o.
func New(o Options) *Client {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxResponseHeaderBytes = maxHeader
	tr.ResponseHeaderTimeout = o.Timeout
	return &Client{o: o, log: log, http: &http.Client{
		Transport: tr,
		Timeout:   o.Timeout,
		// A 3xx is an answer (a rename), never a place to go.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Connect asks on_connect. A redirect is accepted as an allow; unlike
// nginx-rtmp, flashvox does not move the connection to another application.
func (c *Client) Connect(ctx context.Context, ci *session.ConnInfo) error {
	if c.o.OnConnect == "" {
		return nil
	}
	f := sessionForm(ci, "connect")
	addArgs(f, ci.Args)
	_, err := c.ask(ctx, "on_connect", c.o.OnConnect, f, "")
	return err
}

// Publish asks on_publish and returns the name to publish.
func (c *Client) Publish(ctx context.Context, ci *session.ConnInfo, r session.StreamRequest) (string, error) {
	if c.o.OnPublish == "" {
		return r.Name, nil
	}
	f := sessionForm(ci, "publish")
	f.Set("name", r.Name)
	f.Set("type", r.Type)
	addArgs(f, r.Args)
	return c.ask(ctx, "on_publish", c.o.OnPublish, f, r.Name)
}

// Play asks on_play and returns the name to play.
func (c *Client) Play(ctx context.Context, ci *session.ConnInfo, r session.StreamRequest) (string, error) {
	if c.o.OnPlay == "" {
		return r.Name, nil
	}
	f := sessionForm(ci, "play")
	f.Set("name", r.Name)
	f.Set("start", strconv.FormatInt(int64(r.Start), 10))
	f.Set("duration", strconv.FormatInt(int64(r.Duration), 10))
	f.Set("reset", "0")
	if r.Reset {
		f.Set("reset", "1")
	}
	addArgs(f, r.Args)
	return c.ask(ctx, "on_play", c.o.OnPlay, f, r.Name)
}

// sessionForm holds the fields nginx-rtmp sends with every hook.
func sessionForm(ci *session.ConnInfo, call string) url.Values {
	f := url.Values{}
	f.Set("call", call)
	if ci != nil {
		f.Set("app", ci.App)
		f.Set("flashver", ci.FlashVer)
		f.Set("swfurl", ci.SWFURL)
		f.Set("tcurl", ci.TCURL)
		f.Set("pageurl", ci.PageURL)
		f.Set("addr", ci.Addr)
		f.Set("clientid", strconv.FormatUint(ci.ClientID, 10))
	}
	return f
}

// addArgs appends the client's query-string arguments (tokens, keys).
// nginx-rtmp appends them raw, so a client could send a second "name" or
// "addr"; here the server's fields win and such arguments are dropped.
func addArgs(f url.Values, raw string) {
	args, _ := url.ParseQuery(raw) // keeps the well-formed pairs of a bad query
	for k, vs := range args {
		if f.Has(k) {
			continue
		}
		f[k] = vs
	}
}

// ask POSTs form to u and interprets the answer. name is the stream name
// (empty for connect); the result is the name to use.
func (c *Client) ask(ctx context.Context, hook, u string, form url.Values, name string) (string, error) {
	log := c.log.With("hook", hook, "app", form.Get("app"), "addr", form.Get("addr"))
	if name != "" {
		log = log.With("name", name)
	}
	ctx, cancel := context.WithTimeout(ctx, c.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return "", c.unavailable(log, hook, u, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "flashvox")
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return "", c.unavailable(log, hook, u, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	took := time.Since(start).Round(time.Millisecond)
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		log.Debug("hook allowed", "status", s, "took", took)
		return name, nil
	case s >= 300 && s < 400:
		loc := strings.TrimSpace(resp.Header.Get("Location"))
		if loc == "" || name == "" {
			log.Debug("hook allowed (redirect without rename)", "status", s, "location", loc, "took", took)
			return name, nil
		}
		if err := checkName(loc); err != nil {
			log.Warn("hook denied: bad redirect", "status", s, "location", truncate(loc), "why", err, "url", logURL(u))
			return "", &Error{Hook: hook, Status: s, Err: ErrBadRedirect}
		}
		log.Info("hook renamed stream", "status", s, "to", loc, "took", took)
		return loc, nil
	default:
		log.Info("hook denied", "status", s, "url", logURL(u), "took", took)
		return "", &Error{Hook: hook, Status: s, Err: ErrDenied}
	}
}

func (c *Client) unavailable(log *slog.Logger, hook, u string, err error) error {
	logErr := err
	if ue, ok := err.(*url.Error); ok {
		logErr = ue.Err // its text repeats the URL, query string included
	}
	log.Warn("hook failed, refusing", "url", logURL(u), "err", logErr)
	return &Error{Hook: hook, Err: fmt.Errorf("%w: %w", ErrUnavailable, err)}
}

// checkName accepts a redirect's Location as a stream name: short, printable,
// and not an rtmp:// relay target (nginx-rtmp pushes or pulls there; flashvox
// relays nothing).
func checkName(n string) error {
	if len(n) > maxName {
		return fmt.Errorf("longer than %d bytes", maxName)
	}
	if len(n) >= 7 && strings.EqualFold(n[:7], "rtmp://") {
		return fmt.Errorf("rtmp:// relay redirects are not supported")
	}
	for _, r := range n {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("control character in name")
		}
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// logURL is a hook URL for the log: without its query string, which may
// carry the site's shared secret.
func logURL(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i] + "?…"
	}
	return u
}
