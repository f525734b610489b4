package app

import (
	"fmt"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/apps/phone"
	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/conference"
	"github.com/flashvox/flashvox/session"
	"github.com/flashvox/flashvox/webrtc"
)

// webrtcAccess decides WHIP/WHEP requests: the phone application's names
// are a call's issued streams (calls), every other application follows
// its live policy (liveAccess), so a browser reaches exactly what an RTMP
// client may.
func webrtcAccess(apps map[string]session.App, hooks session.Hooks, calls callStreams) webrtc.Access {
	live := liveAccess(apps, hooks)
	return webrtc.AccessFunc(func(r webrtc.Request) (string, error) {
		if r.App == phone.Name && calls.calls != nil {
			return calls.Authorize(r)
		}
		return live.Authorize(r)
	})
}

// callStreams lets a web page publish and play its call's streams over
// WHIP/WHEP: POST /phone/NAME/whip (or whep) with the user's token as
// Authorization: Bearer. The token names the user (checked under the
// guessing throttle, as the API's), and call.Service.StreamKey decides,
// as for an RTMP phone: only the party a name was issued to, only while
// the call is answered. A conference member's issued names (its publish
// name, its mix, a relay room's others) are decided by
// conference.Service.StreamKey after the call's refuse them, as the RTMP
// phone application does (apps/phone conferenceStream).
type callStreams struct {
	calls *call.Service
	confs *conference.Service // nil: no conferences
	auth  *account.Auth
	guard account.Guard
}

// Authorize is webrtc.Access for the phone application.
func (c callStreams) Authorize(r webrtc.Request) (string, error) {
	if r.Bearer == "" {
		return "", fmt.Errorf("%w: %s: a call's streams need the user's token (Authorization: Bearer TOKEN)", webrtc.ErrUnauthorized, r.App)
	}
	user, err := c.auth.VerifyFrom(c.guard, r.Addr, r.Bearer)
	if err != nil {
		return "", fmt.Errorf("%w: %v", webrtc.ErrUnauthorized, err)
	}
	key, err := c.calls.StreamKey(user, r.Name, r.Publish)
	if err != nil && c.confs != nil {
		if k, cerr := c.confs.StreamKey(user, r.Name, r.Publish); cerr == nil {
			key, err = k, nil
		}
	}
	if err != nil {
		return "", fmt.Errorf("%w: %v", webrtc.ErrForbidden, err)
	}
	return key, nil
}
