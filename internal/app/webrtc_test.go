package app

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flashvox/flashvox/hooks"
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
	srv, err := webrtc.New(webrtc.Options{Hub: hub, Transcoder: transcode.New(hub, nil), Access: liveAccess(apps, nil)})
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

// TestWebRTCHooks: WHIP/WHEP go through the HTTP hooks as RTMP does: a
// hook's refusal is 403, its redirect renames the stream, the hook sees
// flashver WHIP or WHEP and the query's arguments; under policy hook a
// request the hooks allowed is admitted, and without hooks refused.
func TestWebRTCHooks(t *testing.T) {
	var mu sync.Mutex
	var forms []url.Values
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		mu.Lock()
		forms = append(forms, r.PostForm)
		mu.Unlock()
		switch r.PostForm.Get("name") {
		case "bad":
			http.Error(w, "no", http.StatusForbidden)
		case "old":
			w.Header().Set("Location", "new")
			w.WriteHeader(http.StatusFound)
		}
	}))
	defer hs.Close()
	h := hooks.New(hooks.Options{OnPublish: hs.URL + "/publish", OnPlay: hs.URL + "/play", Timeout: 5 * time.Second})
	apps := map[string]session.App{
		"hooked": &session.LiveApp{Publish: session.PolicyHook, Play: session.PolicyHook},
		"live":   &session.LiveApp{Publish: session.PolicyOpen, Play: session.PolicyOpen},
	}
	acc := liveAccess(apps, h)
	for _, c := range []struct {
		app, name string
		publish   bool
		key       string // "" refused with ErrForbidden
	}{
		{"hooked", "x", true, "hooked/x"},
		{"hooked", "x", false, "hooked/x"},
		{"hooked", "bad", true, ""},
		{"live", "bad", false, ""},
		{"hooked", "old", true, "hooked/new"},
		{"live", "old", false, "live/new"},
	} {
		key, err := acc.Authorize(webrtc.Request{App: c.app, Name: c.name, Publish: c.publish, Query: "sign=abc", Addr: "127.0.0.1", Context: context.Background()})
		if c.key == "" {
			if !errors.Is(err, webrtc.ErrForbidden) {
				t.Errorf("%s/%s publish=%v: %q %v, want refused", c.app, c.name, c.publish, key, err)
			}
			continue
		}
		if err != nil || key != c.key {
			t.Errorf("%s/%s publish=%v: %q %v, want %s", c.app, c.name, c.publish, key, err, c.key)
		}
	}
	mu.Lock()
	f := forms[0]
	mu.Unlock()
	if f.Get("call") != "publish" || f.Get("flashver") != "WHIP" || f.Get("sign") != "abc" || f.Get("addr") != "127.0.0.1" {
		t.Errorf("hook form %v: want call=publish flashver=WHIP sign=abc addr=127.0.0.1", f)
	}
	if _, err := liveAccess(apps, nil).Authorize(webrtc.Request{App: "hooked", Name: "x", Publish: true}); !errors.Is(err, webrtc.ErrForbidden) {
		t.Errorf("policy hook without hooks: %v, want refused", err)
	}
}
