package hooks

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flashvox/flashvox/session"
)

var testConn = &session.ConnInfo{
	ClientID: 7, Addr: "127.0.0.1", App: "live", Args: "key=k1&call=evil",
	TCURL: "rtmp://127.0.0.1/live", FlashVer: "FMLE/3.0", SWFURL: "http://site/a.swf", PageURL: "http://site/",
}

// recorder is a hook service that remembers the forms it got and answers
// with respond.
type recorder struct {
	mu    sync.Mutex
	forms []url.Values
	hits  atomic.Int32
}

func (r *recorder) serve(t *testing.T, respond func(w http.ResponseWriter, form url.Values)) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.hits.Add(1)
		if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			t.Errorf("%s with %q, want a form POST", req.Method, req.Header.Get("Content-Type"))
		}
		if err := req.ParseForm(); err != nil {
			t.Errorf("form: %v", err)
		}
		r.mu.Lock()
		r.forms = append(r.forms, req.PostForm)
		r.mu.Unlock()
		respond(w, req.PostForm)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func (r *recorder) last() url.Values {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.forms[len(r.forms)-1]
}

func status(code int) func(http.ResponseWriter, url.Values) {
	return func(w http.ResponseWriter, _ url.Values) { w.WriteHeader(code) }
}

func TestAllowSendsNginxFields(t *testing.T) {
	var r recorder
	u := r.serve(t, status(http.StatusOK))
	c := New(Options{OnConnect: u, OnPublish: u, OnPlay: u})
	ctx := context.Background()

	if err := c.Connect(ctx, testConn); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"call": "connect", "app": "live", "addr": "127.0.0.1", "clientid": "7",
		"tcurl": "rtmp://127.0.0.1/live", "flashver": "FMLE/3.0", "swfurl": "http://site/a.swf", "pageurl": "http://site/", "key": "k1"}
	checkForm(t, r.last(), want)

	name, err := c.Publish(ctx, testConn, session.StreamRequest{Name: "cam", Args: "token=t&name=other", Type: "live"})
	if err != nil || name != "cam" {
		t.Fatalf("publish: %q, %v", name, err)
	}
	want["call"], want["name"], want["type"], want["token"] = "publish", "cam", "live", "t"
	delete(want, "key")
	checkForm(t, r.last(), want)

	name, err = c.Play(ctx, testConn, session.StreamRequest{Name: "cam", Start: -2, Duration: -1, Reset: true})
	if err != nil || name != "cam" {
		t.Fatalf("play: %q, %v", name, err)
	}
	checkForm(t, r.last(), map[string]string{"call": "play", "name": "cam", "start": "-2", "duration": "-1", "reset": "1"})
}

func checkForm(t *testing.T, got url.Values, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if vs := got[k]; len(vs) != 1 || vs[0] != v {
			t.Errorf("field %s = %q, want exactly [%q] (form %v)", k, vs, v, got)
		}
	}
}

func TestOffHooksAskNobody(t *testing.T) {
	c := New(Options{})
	if err := c.Connect(context.Background(), testConn); err != nil {
		t.Fatal(err)
	}
	if name, err := c.Publish(context.Background(), testConn, session.StreamRequest{Name: "a"}); err != nil || name != "a" {
		t.Fatalf("publish: %q %v", name, err)
	}
}

func TestDeny403(t *testing.T) {
	var r recorder
	u := r.serve(t, status(http.StatusForbidden))
	c := New(Options{OnConnect: u, OnPublish: u, OnPlay: u})
	_, err := c.Publish(context.Background(), testConn, session.StreamRequest{Name: "cam"})
	var he *Error
	if !errors.Is(err, ErrDenied) || !errors.As(err, &he) || he.Status != 403 || he.Hook != "on_publish" {
		t.Fatalf("err %v, want a 403 denial by on_publish", err)
	}
	if got := err.Error(); got != "denied by the on_publish hook (HTTP 403)" || strings.Contains(got, u) {
		t.Errorf("client-facing text %q", got)
	}
	if err := c.Connect(context.Background(), testConn); !errors.Is(err, ErrDenied) {
		t.Errorf("connect: %v", err)
	}
	if _, err := c.Play(context.Background(), testConn, session.StreamRequest{Name: "cam"}); !errors.Is(err, ErrDenied) {
		t.Errorf("play: %v", err)
	}
}

func TestTimeoutRefuses(t *testing.T) {
	var r recorder
	release := make(chan struct{})
	u := r.serve(t, func(w http.ResponseWriter, _ url.Values) { <-release })
	t.Cleanup(func() { close(release) }) // before the server's Close, which waits for the handler
	c := New(Options{OnPublish: u, Timeout: 200 * time.Millisecond})
	start := time.Now()
	_, err := c.Publish(context.Background(), testConn, session.StreamRequest{Name: "cam"})
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %s with a 200ms timeout", d)
	}
	if got := err.Error(); got != "the on_publish hook is unavailable" {
		t.Errorf("client-facing text %q", got)
	}
}

func TestCallerContextEnds(t *testing.T) {
	var r recorder
	release := make(chan struct{})
	u := r.serve(t, func(w http.ResponseWriter, _ url.Values) { <-release })
	t.Cleanup(func() { close(release) }) // before the server's Close, which waits for the handler
	c := New(Options{OnPlay: u, Timeout: 30 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := c.Play(ctx, testConn, session.StreamRequest{Name: "cam"}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err %v, want ErrUnavailable when the connection's context ends", err)
	}
}

func TestRedirectRenames(t *testing.T) {
	var r recorder
	u := r.serve(t, func(w http.ResponseWriter, f url.Values) {
		if f.Get("name") == "alias" {
			w.Header().Set("Location", "real")
			w.WriteHeader(http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	c := New(Options{OnConnect: u, OnPublish: u, OnPlay: u})
	for _, call := range []func(context.Context, *session.ConnInfo, session.StreamRequest) (string, error){c.Publish, c.Play} {
		name, err := call(context.Background(), testConn, session.StreamRequest{Name: "alias"})
		if err != nil || name != "real" {
			t.Fatalf("got %q, %v; want the Location's name", name, err)
		}
	}
	if n := r.hits.Load(); n != 2 {
		t.Fatalf("%d requests: the redirect must not be followed", n)
	}
	// connect: a redirect allows; the application is not changed.
	if err := c.Connect(context.Background(), testConn); err != nil {
		t.Fatal(err)
	}
}

func TestRedirectBadLocation(t *testing.T) {
	for _, tc := range []struct{ loc, want string }{
		{"rtmp://elsewhere/live/x", "bad"},
		{strings.Repeat("n", maxName+1), "bad"},
		{"", "cam"}, // 3xx without Location: allowed unchanged, as nginx-rtmp does
	} {
		var r recorder
		u := r.serve(t, func(w http.ResponseWriter, _ url.Values) {
			if tc.loc != "" {
				w.Header().Set("Location", tc.loc)
			}
			w.WriteHeader(http.StatusMovedPermanently)
		})
		c := New(Options{OnPublish: u})
		name, err := c.Publish(context.Background(), testConn, session.StreamRequest{Name: "cam"})
		switch tc.want {
		case "bad":
			if !errors.Is(err, ErrBadRedirect) {
				t.Errorf("Location %.20q: %q, %v; want ErrBadRedirect", tc.loc, name, err)
			}
		default:
			if err != nil || name != tc.want {
				t.Errorf("Location %.20q: %q, %v; want %q", tc.loc, name, err, tc.want)
			}
		}
	}
}

func TestHugeResponse(t *testing.T) {
	chunk := []byte(strings.Repeat("x", 64<<10))
	var r recorder
	u := r.serve(t, func(w http.ResponseWriter, _ url.Values) {
		w.WriteHeader(http.StatusOK)
		for range 16 << 10 { // 1 GiB if anyone read it all
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	hugeHeader := r.serve(t, func(w http.ResponseWriter, _ url.Values) {
		w.Header().Set("X-Big", strings.Repeat("y", 2*maxHeader))
		w.WriteHeader(http.StatusOK)
	})
	start := time.Now()
	c := New(Options{OnPublish: u, OnPlay: hugeHeader, Timeout: 5 * time.Second})
	if name, err := c.Publish(context.Background(), testConn, session.StreamRequest{Name: "cam"}); err != nil || name != "cam" {
		t.Fatalf("huge body: %q, %v; the status decides, the body is cut off", name, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("huge body took %s: it must not be read to the end", d)
	}
	if _, err := c.Play(context.Background(), testConn, session.StreamRequest{Name: "cam"}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("huge header: %v, want ErrUnavailable", err)
	}
}

func TestGarbageAnswerRefuses(t *testing.T) {
	for _, answer := range []string{
		"this is not http\r\n\r\n",
		"HTTP/1.1 abc Nope\r\n\r\n",
		"\x00\x01\x02\x03",
		"", // closes at once
	} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				_, _ = http.ReadRequest(bufio.NewReader(conn))
				_, _ = conn.Write([]byte(answer))
				conn.Close()
			}
		}()
		c := New(Options{OnPublish: "http://" + ln.Addr().String() + "/p", Timeout: time.Second})
		_, err = c.Publish(context.Background(), testConn, session.StreamRequest{Name: "cam"})
		ln.Close()
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("answer %q: %v, want ErrUnavailable", answer, err)
		}
	}
}

func TestNoServerRefuses(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c := New(Options{OnConnect: "http://" + addr + "/c"})
	if err := c.Connect(context.Background(), testConn); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("%v, want ErrUnavailable", err)
	}
}
