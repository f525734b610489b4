package app

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/rtmfp"
	"github.com/flashvox/flashvox/rtmp"
	"github.com/flashvox/flashvox/rtmp/message"
)

// sessionPhone is a phone connection recording onSessionEnd.
type sessionPhone struct {
	name  string
	c     *rtmp.Client
	ended chan string // reasons of onSessionEnd
}

func dialSessionPhone(t *testing.T, name, rawURL string, args ...any) *sessionPhone {
	t.Helper()
	p := &sessionPhone{name: name, ended: make(chan string, 4)}
	opts := rtmp.ClientOptions{ConnectArgs: args, OnCommand: func(cmd *message.Command, _ *message.Message) {
		if o, ok := cmd.Args[0].(*amf.Object); ok && cmd.Name == "onSessionEnd" {
			p.ended <- o.GetString("reason")
		}
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var err error
	if strings.HasPrefix(rawURL, "rtmfp:") {
		var c *rtmfp.Conn
		if c, err = rtmfp.Dial(ctx, rawURL, rtmfp.DialOptions{}); err == nil {
			u, _ := url.Parse(rawURL)
			p.c, err = rtmp.NewClient(ctx, c, u, opts)
		}
	} else {
		p.c, err = rtmp.Dial(ctx, rawURL, opts)
	}
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	t.Cleanup(func() { p.c.Close() })
	return p
}

// TestLogoutEndsSessionsOnEveryTransport: one token opens phone sessions
// over RTMP, RTMPT and RTMFP and an HTTP long-poll; DELETE /api/v1/session
// with it ends them all at once (onSessionEnd token_revoked, then the
// close; the long-poll answers 401), while a session of another token of
// the same user goes on.
func TestLogoutEndsSessionsOnEveryTransport(t *testing.T) {
	a := startP2PApp(t, "")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { defer close(served); _ = a.srv.serveRTMP(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-served })

	tok := httpLogin(t, a.http, "alice", "alice")
	host := strings.TrimPrefix(a.http, "http://")
	phones := []*sessionPhone{
		dialSessionPhone(t, "rtmp", "rtmp://"+ln.Addr().String()+"/phone", "alice", tok),
		dialSessionPhone(t, "rtmpt", "rtmpt://"+host+"/phone", "alice", tok),
		dialSessionPhone(t, "rtmfp", a.rtmfp, "alice", tok),
	}
	other := dialSessionPhone(t, "rtmp by password", "rtmp://"+ln.Addr().String()+"/phone", "alice", "alice")
	poll := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("GET", a.http+"/api/v1/events?wait=30s&cursor=1000000", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			poll <- 0
			return
		}
		res.Body.Close()
		poll <- res.StatusCode
	}()
	testwait.For(t, 5*time.Second, "the long-poll and 4 sessions watched", func() bool { return a.srv.auth.Watching() == 5 })

	start := time.Now()
	req, _ := http.NewRequest("DELETE", a.http+"/api/v1/session", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 204 {
		t.Fatalf("logout: %v %v", res, err)
	}
	res.Body.Close()
	for _, p := range phones {
		select {
		case <-p.c.Done():
		case <-time.After(3 * time.Second):
			t.Fatalf("%s: session still open after the logout", p.name)
		}
		// Done is the transport's end: over RTMFP it comes with the
		// server's Close chunk, while the client's dispatch may still be
		// handing the message before it (rtmp.Client.Done), so the
		// message is waited for, not only looked for (a CI failure).
		select {
		case r := <-p.ended:
			if r != "token_revoked" {
				t.Errorf("%s: onSessionEnd %q", p.name, r)
			}
		case <-time.After(2 * time.Second):
			t.Errorf("%s: closed without onSessionEnd", p.name)
		}
		t.Logf("%s: closed %s after the logout", p.name, time.Since(start).Round(time.Millisecond))
	}
	select {
	case code := <-poll:
		if code != 401 {
			t.Fatalf("long-poll answered %d", code)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the long-poll outlived the logout")
	}
	select {
	case <-other.c.Done():
		t.Fatal("the password session (another token) was closed")
	default:
	}
	if _, err := other.c.Call(context.Background(), "invite", "carol"); err != nil {
		t.Fatalf("the other session: %v", err)
	}
}

func httpLogin(t *testing.T, base, user, password string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"user": user, "password": password})
	res, err := http.Post(base+"/api/v1/login", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct{ Token string }
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || out.Token == "" {
		t.Fatalf("login %s: %d %v", user, res.StatusCode, err)
	}
	return out.Token
}
