package session

import (
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
}

// AuthorizeExternal applies the application's publish or play policy to r
// and returns the hub key (APP/NAME), or an error wrapping ErrCredentials
// or ErrRefused. Under PolicyHook it refuses: the HTTP hooks speak about
// RTMP connections and are not asked for WebRTC sessions yet.
func (a *LiveApp) AuthorizeExternal(app string, r ExternalRequest) (string, error) {
	if r.Name == "" || len(r.Name) > 256 || strings.ContainsAny(r.Name, "#/?\x00\r\n") {
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
	case PolicyHook:
		err = fmt.Errorf("%w: %s: %s is decided by the HTTP hooks, which do not cover WebRTC yet", ErrRefused, app, what)
	default:
		err = fmt.Errorf("%w: %s: %s is not allowed in this application", ErrRefused, app, what)
	}
	if err != nil {
		return "", err
	}
	return app + "/" + r.Name, nil
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
