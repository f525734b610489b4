package app

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/media/transcode"
	"github.com/flashvox/flashvox/session"
	"github.com/flashvox/flashvox/webrtc"
)

type fakeTokens map[string]string

func (f fakeTokens) Verify(tok string) (string, error) {
	if u, ok := f[tok]; ok {
		return u, nil
	}
	return "", errors.New("bad token")
}

// TestWebRTCAccess: WHIP/WHEP obey the live applications' policies as RTMP
// does: 401 without (or with bad) credentials where a token or key is
// needed, 403 where nobody may, 404 for the built-in applications.
func TestWebRTCAccess(t *testing.T) {
	tokens := fakeTokens{"v1.good": "alice"}
	apps := map[string]session.App{
		"live":   &session.LiveApp{Publish: session.PolicyOpen, Play: session.PolicyOpen, Tokens: tokens},
		"secure": &session.LiveApp{Publish: session.PolicyToken, Play: session.PolicyToken, Tokens: tokens},
		"keyed":  &session.LiveApp{Publish: session.PolicyKey, Play: session.PolicyOpen, Keys: map[string]string{"x": "s3cret"}},
		"closed": &session.LiveApp{Publish: session.PolicyDeny, Play: session.PolicyHook},
		"phone":  nil,
	}
	hub := media.NewHub(64, nil)
	srv, err := webrtc.New(webrtc.Options{Hub: hub, Transcoder: transcode.New(hub, nil), Access: liveAccess(apps)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv.Handler(http.NotFoundHandler()))
	defer hs.Close()
	// Content-Type text/plain: a request that passes access gets 415, so
	// 415 below means "admitted" without starting any ICE.
	for _, c := range []struct {
		path, auth string
		want       int
	}{
		{"/secure/x/whip", "", http.StatusUnauthorized},
		{"/secure/x/whip", "Bearer v1.bad", http.StatusUnauthorized},
		{"/secure/x/whep", "Basic YWxpY2U6YWxpY2U=", http.StatusUnauthorized},
		{"/secure/x/whip", "Bearer v1.good", http.StatusUnsupportedMediaType},
		{"/secure/x/whep?token=v1.good", "", http.StatusUnsupportedMediaType},
		{"/keyed/x/whip", "", http.StatusUnauthorized},
		{"/keyed/x/whip", "Bearer wrong", http.StatusUnauthorized},
		{"/keyed/x/whip", "Bearer s3cret", http.StatusUnsupportedMediaType},
		{"/keyed/x/whip?key=s3cret", "", http.StatusUnsupportedMediaType},
		{"/keyed/y/whip", "Bearer s3cret", http.StatusUnauthorized},
		{"/keyed/x/whep", "", http.StatusUnsupportedMediaType},
		{"/live/x/whip", "", http.StatusUnsupportedMediaType},
		{"/live/x/whip", "Bearer v1.bad", http.StatusUnauthorized},
		{"/closed/x/whip", "", http.StatusForbidden},
		{"/closed/x/whep", "", http.StatusForbidden},
		{"/phone/x/whep", "", http.StatusNotFound},
		{"/nope/x/whep", "", http.StatusNotFound},
	} {
		req, _ := http.NewRequest("POST", hs.URL+c.path, strings.NewReader("v=0\r\n"))
		req.Header.Set("Content-Type", "text/plain")
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != c.want {
			t.Errorf("POST %s (%q): %d, want %d", c.path, c.auth, res.StatusCode, c.want)
		}
		if c.want == http.StatusUnauthorized && res.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("POST %s: 401 without WWW-Authenticate", c.path)
		}
	}
}

// TestWebRTCWired: the services built from the default config answer a
// WHEP offer for live/NAME on the HTTP routes (beside RTMPT's /open/),
// count it in /metrics, and answer nothing with webrtc.enabled false.
func TestWebRTCWired(t *testing.T) {
	a := startP2PApp(t, "")
	offer := testpeer.PionOffer(t)
	res, err := http.Post(a.http+"/live/x/whep", "application/sdp", strings.NewReader(offer))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated || !strings.HasPrefix(res.Header.Get("Location"), "/live/x/whep/") {
		t.Fatalf("WHEP: %d, Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	m := a.metrics(t)
	if m["flashvox_webrtc_sessions"] != 1 || m["flashvox_webrtc_sessions_total"] != 1 {
		t.Errorf("metrics: sessions %v, total %v", m["flashvox_webrtc_sessions"], m["flashvox_webrtc_sessions_total"])
	}
	off := startP2PApp(t, "", "FLASHVOX_WEBRTC_ENABLED=false")
	res, err = http.Post(off.http+"/live/x/whep", "application/sdp", strings.NewReader(offer))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode == http.StatusCreated {
		t.Fatal("WHEP answered with webrtc.enabled false")
	}
}
