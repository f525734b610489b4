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
// are a call's or a conference member's issued streams (callStreams),
// every other application follows its live policy (liveAccess), so a
// browser reaches exactly what an RTMP client may.
func webrtcAccess(apps map[string]session.App, hooks session.Hooks, calls callStreams) webrtc.Access {
	return rtcAccess{live: liveAccess(apps, hooks), calls: calls}
}

// rtcAccess is webrtc.Access and webrtc.Ender.
type rtcAccess struct {
	live  webrtc.Access
	calls callStreams
}

func (a rtcAccess) Authorize(r webrtc.Request) (string, error) {
	if r.App == phone.Name && a.calls.calls != nil {
		return a.calls.Authorize(r)
	}
	return a.live.Authorize(r)
}

// Ends ends a WHEP session of a conference stream when the membership
// that allows it ends (left, kicked, the room's end), as an RTMP play
// stops (conference.Service.PlayEnds): a kicked page hears nothing more.
func (a rtcAccess) Ends(r webrtc.Request) <-chan struct{} {
	c := a.calls
	if r.App != phone.Name || r.Publish || c.confs == nil || c.auth == nil {
		return nil
	}
	user, err := c.auth.Verify(r.Bearer) // Authorize checked it under the guessing throttle just before
	if err != nil {
		return nil
	}
	return c.confs.PlayEnds(user, r.Name)
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
	if err == nil {
		c.calls.MediaVia(user, r.Name, r.Publish, call.TransportWebRTC) // the call's record names WebRTC
	}
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
