package app

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestWebRTCCallStreams: WHIP/WHEP on the phone application reach a
// call's issued names only: with the token of the party the name was
// issued to, in its direction, while the call is answered. A stranger,
// the other party, a guessed name, a bad or missing token and a replay
// after the hang-up are refused.
func TestWebRTCCallStreams(t *testing.T) {
	a := startP2PApp(t, "")
	api := func(method, path, token, body string) map[string]any {
		t.Helper()
		return a.api(t, method, path, token, body)
	}
	login := func(u string) string { return a.login(t, u) }
	ta, tb, tc := login("alice"), login("bob"), login("carol")
	api("GET", "/presence", tb, "") // bob's page is online
	id := api("POST", "/calls", ta, `{"to":"bob"}`)["call"].(string)
	acc := api("POST", "/calls/"+id+"/accept", tb, "")
	bobPub, bobPlay := acc["publish"].(string), acc["play"].(string) // alice plays bobPub, publishes bobPlay
	// text/plain: a request that passes access gets 415 without any ICE work.
	post := func(path, token string) int {
		req, _ := http.NewRequest("POST", a.http+path, strings.NewReader("v=0\r\n"))
		req.Header.Set("Content-Type", "text/plain")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	for _, c := range []struct {
		name, path, token string
		want              int
	}{
		{"alice publishes her name", "/phone/" + bobPlay + "/whip", ta, http.StatusUnsupportedMediaType},
		{"alice plays bob's", "/phone/" + bobPub + "/whep", ta, http.StatusUnsupportedMediaType},
		{"bob publishes his", "/phone/" + bobPub + "/whip", tb, http.StatusUnsupportedMediaType},
		{"no token", "/phone/" + bobPlay + "/whip", "", http.StatusUnauthorized},
		{"bad token", "/phone/" + bobPlay + "/whip", "v1.forged", http.StatusUnauthorized},
		{"the token as a query", "/phone/" + bobPlay + "/whip?token=" + ta, "", http.StatusUnauthorized},
		{"stranger plays", "/phone/" + bobPub + "/whep", tc, http.StatusForbidden},
		{"bob publishes alice's name", "/phone/" + bobPlay + "/whip", tb, http.StatusForbidden},
		{"alice publishes bob's name", "/phone/" + bobPub + "/whip", ta, http.StatusForbidden},
		{"alice plays her own", "/phone/" + bobPlay + "/whep", ta, http.StatusForbidden},
		{"guessed name", "/phone/00112233445566778899aabbccddeeff/whep", ta, http.StatusForbidden},
	} {
		if got := post(c.path, c.token); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	api("POST", "/calls/"+id+"/hangup", ta, "")
	if got := post("/phone/"+bobPlay+"/whip", ta); got != http.StatusForbidden {
		t.Errorf("replay after the hang-up: %d, want 403", got)
	}
}

// api makes one HTTP API request with token (none when ""), failing t on
// an answer of 300 or more; it returns the decoded JSON object.
func (a *p2pApp) api(t *testing.T, method, path, token, body string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(method, a.http+"/api/v1"+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out := map[string]any{}
	_ = json.NewDecoder(res.Body).Decode(&out)
	if res.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %v", method, path, res.StatusCode, out)
	}
	return out
}

// login signs u in (password = name) and returns the token.
func (a *p2pApp) login(t *testing.T, u string) string {
	t.Helper()
	return a.api(t, "POST", "/login", "", fmt.Sprintf(`{"user":%q,"password":%q}`, u, u))["token"].(string)
}
