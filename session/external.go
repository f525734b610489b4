package session

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Refusals of AuthorizeExternal, for the edge to choose its answer (HTTP
// 401 and 403 for WHIP/WHEP).
var (
	// ErrCredentials: the policy needs a token or key that is missing or wrong.
	ErrCredentials = errors.New("credentials required")
	// ErrRefused: the policy lets nobody do this over this edge.
	ErrRefused = errors.New("not allowed")
)

// ExternalRequest is a publish or play that does not come over an RTMP or
// RTMFP connection (WHIP/WHEP): the live application's policy applies to
// it as to a NetStream's.
type ExternalRequest struct {
	Name    string
	Publish bool
	// Credential is what the client presented (HTTP Authorization:
	// Bearer): a flashvox token, or the stream key under PolicyKey.
	Credential string
	Query      string // key=SECRET and token=T are accepted here too
	Addr       string // the client's address, for the guessing throttle
	// Hooked: the HTTP hooks (HookExternal) ran and allowed the request,
	// which PolicyHook needs; HookName is the name they gave ("" keeps
	// Name). Policies apply to Name, the name as asked, as over RTMP.
	Hooked   bool
	HookName string
}

// AuthorizeExternal applies the application's publish or play policy to r
// and returns the hub key (APP/NAME), or an error wrapping ErrCredentials
// or ErrRefused. Under PolicyHook it allows what the hooks allowed
// (r.Hooked), and refuses when they did not run (they are off).
func (a *LiveApp) AuthorizeExternal(app string, r ExternalRequest) (string, error) {
	if !externalName(r.Name) || (r.HookName != "" && !externalName(r.HookName)) {
		return "", fmt.Errorf("%w: invalid stream name", ErrRefused)
	}
	q, _ := url.ParseQuery(r.Query)
	cred := r.Credential
	if cred == "" {
		cred = q.Get("token")
	}
	p, what := a.Play, "play"
	if r.Publish {
		p, what = a.Publish, "publish"
	}
	var err error
	switch p {
	case PolicyOpen:
		if isFlashvoxToken(cred) { // a token given must be good, as over RTMP
			err = a.externalToken(app, r.Addr, cred)
		}
	case PolicyToken:
		err = a.externalToken(app, r.Addr, cred)
	case PolicyKey:
		key := r.Credential
		if key == "" {
			key = q.Get("key")
		}
		err = a.externalKey(app, r.Addr, r.Name, key)
	case PolicyHook: // the hooks ran before and allowed; without hooks, nobody decides
		if !r.Hooked {
			err = fmt.Errorf("%w: %s: %s needs the HTTP hooks, which are off", ErrRefused, app, what)
		} else if isFlashvoxToken(cred) {
			err = a.externalToken(app, r.Addr, cred)
		}
	default:
		err = fmt.Errorf("%w: %s: %s is not allowed in this application", ErrRefused, app, what)
	}
	if err != nil {
		return "", err
	}
	if r.HookName != "" {
		return app + "/" + r.HookName, nil
	}
	return app + "/" + r.Name, nil
}

// externalName: a stream name WHIP/WHEP may use (not a derived key's '#').
func externalName(n string) bool {
	return n != "" && len(n) <= 256 && !strings.ContainsAny(n, "#/?\x00\r\n")
}

// HookExternal asks the HTTP hooks h about a WHIP or WHEP request as about
// an RTMP client's: on_connect, then on_publish or on_play, with the
// request's query as the arguments and via ("WHIP", "WHEP") as flashver,
// so a hook service can tell the transports apart. It returns r with
// Hooked set and the name the hooks gave; a refusal wraps ErrRefused.
func HookExternal(ctx context.Context, h Hooks, app, via string, r ExternalRequest) (ExternalRequest, error) {
	ci := &ConnInfo{ClientID: clientIDs.Add(1), Addr: r.Addr, App: app, Args: r.Query, FlashVer: via}
	if err := h.Connect(ctx, ci); err != nil {
		return r, fmt.Errorf("%w: %s: refused by on_connect: %v", ErrRefused, app, err)
	}
	sr := StreamRequest{Name: r.Name, Args: r.Query, Type: "live"}
	ask, what := h.Play, "on_play"
	if r.Publish {
		ask, what = h.Publish, "on_publish"
	}
	name, err := ask(ctx, ci, sr)
	if err != nil {
		return r, fmt.Errorf("%w: %s: refused by %s: %v", ErrRefused, app, what, err)
	}
	r.Hooked = true
	if name != r.Name {
		r.HookName = name
	}
	return r, nil
}

// externalToken verifies a flashvox token, throttled per address.
func (a *LiveApp) externalToken(app, addr, token string) error {
	account := "app/" + app
	if a.Guard != nil {
		if wait := a.Guard.Check(addr, account); wait > 0 {
			return fmt.Errorf("%w: %s: %v", ErrCredentials, app, errThrottled(wait))
		}
	}
	if token == "" {
		return fmt.Errorf("%w: %s: a token is required (Authorization: Bearer TOKEN)", ErrCredentials, app)
	}
	if a.Tokens == nil {
		return fmt.Errorf("%w: %s: tokens are not accepted here", ErrRefused, app)
	}
	_, err := a.Tokens.Verify(token)
	a.externalReport(addr, account, err == nil)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrCredentials, app, err)
	}
	return nil
}

// externalKey compares a stream key in constant time, throttled per address.
func (a *LiveApp) externalKey(app, addr, name, got string) error {
	account := "app/" + app
	if a.Guard != nil {
		if wait := a.Guard.Check(addr, account); wait > 0 {
			return fmt.Errorf("%w: %s: %v", ErrCredentials, app, errThrottled(wait))
		}
	}
	want, ok := a.Keys[name]
	good := subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1 && ok && got != ""
	a.externalReport(addr, account, good)
	if !good {
		return fmt.Errorf("%w: %s: a valid stream key is required (Authorization: Bearer KEY)", ErrCredentials, app)
	}
	return nil
}

func (a *LiveApp) externalReport(addr, account string, ok bool) {
	switch {
	case a.Guard == nil:
	case ok:
		a.Guard.Succeed(addr, account)
	default:
		a.Guard.Fail(addr, account)
	}
}
