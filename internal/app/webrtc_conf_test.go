package app

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

// confAccessYAML: a mixed room and a relay room, moderated by alice.
const confAccessYAML = `conference:
  rooms:
    - {name: mix, mode: mixed, moderators: [alice]}
    - {name: rel, mode: relay, moderators: [alice]}
`

// TestWebRTCConferenceStreams: WHIP/WHEP on the phone application reach a
// conference member's issued names as the RTMP phone app does: a member
// publishes its own name and plays its own mix (mixed) or the others'
// streams (relay), with its own token. Another member, a stranger, the
// wrong direction, a missing token are refused; a kick ends the member's
// running WHEP session at once, and a replay after it is refused.
func TestWebRTCConferenceStreams(t *testing.T) {
	a := startP2PApp(t, confAccessYAML)
	api := func(method, path, token, body string) map[string]any {
		t.Helper()
		return a.api(t, method, path, token, body)
	}
	login := func(u string) string { return a.login(t, u) }
	ta, tb, tc := login("alice"), login("bob"), login("carol")
	aj := api("POST", "/conferences/mix/join", ta, `{"codec":"opus"}`)
	bj := api("POST", "/conferences/mix/join", tb, "")
	api("POST", "/conferences/rel/join", ta, "")
	rj := api("POST", "/conferences/rel/join", tb, "")
	alicePub, aliceMix, bobMix := aj["publish"].(string), aj["play"].(string), bj["play"].(string)
	aliceFwd := rj["members"].([]any)[0].(map[string]any)["play"].(string) // bob is told alice's stream
	// text/plain: a request that passes access gets 415 without any ICE work.
	post := func(path, token, contentType, body string) (int, string) {
		req, _ := http.NewRequest("POST", a.http+path, strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode, res.Header.Get("Location")
	}
	for _, c := range []struct {
		name, path, token string
		want              int
	}{
		{"alice publishes her name", "/phone/" + alicePub + "/whip", ta, http.StatusUnsupportedMediaType},
		{"alice plays her mix", "/phone/" + aliceMix + "/whep", ta, http.StatusUnsupportedMediaType},
		{"bob plays alice's stream (relay)", "/phone/" + aliceFwd + "/whep", tb, http.StatusUnsupportedMediaType},
		{"no token", "/phone/" + aliceMix + "/whep", "", http.StatusUnauthorized},
		{"bad token", "/phone/" + aliceMix + "/whep", "v1.forged", http.StatusUnauthorized},
		{"bob plays alice's mix", "/phone/" + aliceMix + "/whep", tb, http.StatusForbidden},
		{"bob publishes alice's name", "/phone/" + alicePub + "/whip", tb, http.StatusForbidden},
		{"alice publishes on her mix", "/phone/" + aliceMix + "/whip", ta, http.StatusForbidden},
		{"alice plays her own (relay)", "/phone/" + aliceFwd + "/whep", ta, http.StatusForbidden},
		{"stranger plays alice's mix", "/phone/" + aliceMix + "/whep", tc, http.StatusForbidden},
		{"stranger plays alice's stream (relay)", "/phone/" + aliceFwd + "/whep", tc, http.StatusForbidden},
	} {
		if got, _ := post(c.path, c.token, "text/plain", "v=0\r\n"); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	// bob plays his mix; alice kicks him: the session ends, a replay is refused.
	code, loc := post("/phone/"+bobMix+"/whep", tb, "application/sdp", testpeer.PionOffer(t))
	if code != http.StatusCreated || loc == "" {
		t.Fatalf("bob's WHEP of his mix: %d", code)
	}
	if n := a.srv.rtc.Sessions(); n != 1 {
		t.Fatalf("%d sessions", n)
	}
	api("POST", "/conferences/mix/members/"+bj["member"].(string)+"/kick", ta, "")
	testwait.For(t, 5*time.Second, "the kicked member's WHEP session to end", func() bool { return a.srv.rtc.Sessions() == 0 })
	if got, _ := post("/phone/"+bobMix+"/whep", tb, "text/plain", "v=0\r\n"); got != http.StatusForbidden {
		t.Errorf("replay after the kick: %d, want 403", got)
	}
}
