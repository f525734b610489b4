package rtmpt

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testwait"
)

// echoServer writes back what each session sends and counts the sessions
// that ended.
type echoServer struct{ ended atomic.Int64 }

func (e *echoServer) ServeConn(_ context.Context, nc net.Conn) error {
	defer e.ended.Add(1)
	defer nc.Close()
	_, err := io.Copy(nc, nc)
	return err
}

type testTunnel struct {
	*Tunnel
	url  string
	echo *echoServer
}

func startTunnel(t *testing.T, opts Options) *testTunnel {
	t.Helper()
	echo := &echoServer{}
	tun := New(echo, opts)
	mux := http.NewServeMux()
	tun.Register(mux)
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		hs.Close()
		tun.Close()
	})
	return &testTunnel{Tunnel: tun, url: hs.URL, echo: echo}
}

// post sends one request and returns the status and body.
func (tt *testTunnel) post(t *testing.T, path string, body []byte) (int, []byte) {
	t.Helper()
	resp, err := http.Post(tt.url+path, ContentType, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode == http.StatusOK && resp.Header.Get("Content-Type") != ContentType {
		t.Fatalf("POST %s: content type %q", path, resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, b
}

// session is a client's view of one tunnel session.
type clientSession struct {
	tt  *testTunnel
	id  string
	seq int
}

func (tt *testTunnel) open(t *testing.T) *clientSession {
	t.Helper()
	code, body := tt.post(t, "/open/1", []byte{0})
	if code != http.StatusOK || !bytes.HasSuffix(body, []byte("\n")) {
		t.Fatalf("open: %d %q", code, body)
	}
	return &clientSession{tt: tt, id: strings.TrimSuffix(string(body), "\n")}
}

func (s *clientSession) do(t *testing.T, cmd string, body []byte) (int, []byte) {
	t.Helper()
	s.seq++
	return s.tt.post(t, fmt.Sprintf("/%s/%s/%d", cmd, s.id, s.seq), body)
}

// TestTunnelEcho: bytes sent come back on the following requests behind
// the polling byte, in order; close ends the session on both sides.
func TestTunnelEcho(t *testing.T) {
	tt := startTunnel(t, Options{Hold: 200 * time.Millisecond})
	s := tt.open(t)
	if len(s.id) != 26 {
		t.Fatalf("session id %q: want 26 characters (128 bits)", s.id)
	}
	var got []byte
	code, b := s.do(t, "send", []byte("hello "))
	if code != http.StatusOK || len(b) < 1 || b[0] != minInterval {
		t.Fatalf("send: %d %q", code, b)
	}
	got = append(got, b[1:]...)
	_, b = s.do(t, "send", []byte("world"))
	got = append(got, b[1:]...)
	for i := 0; len(got) < len("hello world"); i++ {
		if i > 100 {
			t.Fatalf("after %d polls: %q", i, got)
		}
		code, b := s.do(t, "idle", []byte{0})
		if code != http.StatusOK || len(b) < 1 {
			t.Fatalf("idle: %d %q", code, b)
		}
		got = append(got, b[1:]...)
	}
	if string(got) != "hello world" {
		t.Fatalf("echo %q", got)
	}
	if code, _ := s.do(t, "close", []byte{0}); code != http.StatusOK {
		t.Fatalf("close: %d", code)
	}
	if code, _ := s.do(t, "idle", []byte{0}); code != http.StatusNotFound {
		t.Fatalf("idle after close: %d, want 404", code)
	}
	testwait.For(t, 5*time.Second, "the server side to end", func() bool { return tt.echo.ended.Load() == 1 })
}

// TestTunnelHoldAnswersAtOnce: a held idle poll answers as soon as data is
// written, not at the end of the hold.
func TestTunnelHoldAnswersAtOnce(t *testing.T) {
	tt := startTunnel(t, Options{Hold: 5 * time.Second})
	s := tt.open(t)
	s.do(t, "send", []byte("x")) // the echo may answer this send or the next poll
	time.Sleep(holdQuiet)        // a quiet client gets its polls held
	s.do(t, "idle", []byte{0})   // drains the echo if the send did not
	tt.sessionConn(t, s.id).Write([]byte("late"))
	start := time.Now()
	code, b := s.do(t, "idle", []byte{0})
	if code != http.StatusOK || string(b[1:]) != "late" {
		t.Fatalf("idle: %d %q", code, b)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("held idle answered after %s", d)
	}
}

func (tt *testTunnel) sessionConn(t *testing.T, id string) *Conn {
	t.Helper()
	s := tt.lookup(id)
	if s == nil {
		t.Fatalf("no session %s", id)
	}
	return s.conn
}

// TestTunnelPollingInterval: the byte grows while answers are empty and
// drops back to 1 when data flows.
func TestTunnelPollingInterval(t *testing.T) {
	tt := startTunnel(t, Options{Hold: -1})
	s := tt.open(t)
	var steps []byte
	for range 7 * (growAfter + 1) {
		_, b := s.do(t, "idle", []byte{0})
		if len(steps) == 0 || steps[len(steps)-1] != b[0] {
			steps = append(steps, b[0])
		}
	}
	if !bytes.Equal(steps, []byte{1, 3, 7, 15, 31, maxInterval}) {
		t.Fatalf("intervals while idle: %v, want 1 3 7 15 31 %d", steps, maxInterval)
	}
	tt.sessionConn(t, s.id).Write([]byte("x"))
	if _, b := s.do(t, "idle", []byte{0}); b[0] != minInterval || string(b[1:]) != "x" {
		t.Fatalf("answer with data: %q", b)
	}
}

// TestTunnelHostile: each bad request gets an HTTP error and leaves the
// good session it names (if any) and every other session working.
func TestTunnelHostile(t *testing.T) {
	tt := startTunnel(t, Options{MaxBody: 1024, MaxSessions: 3, Hold: -1})
	good := tt.open(t)
	victim := tt.open(t)
	check := func(t *testing.T, s *clientSession) {
		t.Helper()
		code, b := s.do(t, "send", []byte("ok"))
		for code == http.StatusOK && len(b) < 3 {
			code, b = s.do(t, "idle", []byte{0})
		}
		if code != http.StatusOK || string(b[1:]) != "ok" {
			t.Fatalf("session %s broken: %d %q", s.id, code, b)
		}
	}
	tests := []struct {
		name   string
		method string
		path   func() string
		body   []byte
		want   int
	}{
		{"GET", http.MethodGet, func() string { return "/open/1" }, nil, http.StatusMethodNotAllowed},
		{"bad path", http.MethodPost, func() string { return "/send/" + victim.id }, nil, http.StatusNotFound},
		{"garbage path", http.MethodPost, func() string { return "/idle/%00%ff/1" }, nil, http.StatusNotFound},
		{"unknown session", http.MethodPost, func() string { return "/send/" + strings.Repeat("a", 26) + "/1" }, []byte("x"), http.StatusNotFound},
		{"repeated sequence", http.MethodPost, func() string { return fmt.Sprintf("/send/%s/%d", victim.id, victim.seq) }, []byte("x"), http.StatusBadRequest},
		{"sequence too far ahead", http.MethodPost, func() string { return fmt.Sprintf("/send/%s/%d", victim.id, victim.seq+maxSeqGap+1) }, []byte("x"), http.StatusBadRequest},
		{"huge body", http.MethodPost, func() string { return fmt.Sprintf("/send/%s/%d", victim.id, victim.seq+100) }, make([]byte, 1<<20), http.StatusRequestEntityTooLarge},
		{"ident2", http.MethodPost, func() string { return "/fcs/ident2" }, []byte{0}, http.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, tt.url+tc.path(), bytes.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			check(t, victim)
			check(t, good)
		})
	}
	t.Run("max sessions", func(t *testing.T) {
		tt.open(t)
		if code, _ := tt.post(t, "/open/1", []byte{0}); code != http.StatusServiceUnavailable {
			t.Fatalf("open beyond max_sessions: %d, want 503", code)
		}
		check(t, good)
	})
	t.Run("stalled body", func(t *testing.T) {
		// A request that never finishes its body holds its own connection
		// only; its session and the others keep being served.
		c, err := net.Dial("tcp", strings.TrimPrefix(tt.url, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		victim.seq++
		fmt.Fprintf(c, "POST /send/%s/%d HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: 100\r\n\r\nabc", victim.id, victim.seq, ContentType)
		check(t, good)
		check(t, victim)
	})
	if n := tt.Stats().BadRequests; n < uint64(len(tests)) {
		t.Fatalf("BadRequests = %d, want at least %d", n, len(tests))
	}
}

// TestTunnelIdleExpiry: a session nobody polls is closed on both sides.
func TestTunnelIdleExpiry(t *testing.T) {
	tt := startTunnel(t, Options{IdleTimeout: 100 * time.Millisecond})
	s := tt.open(t)
	testwait.For(t, 5*time.Second, "the idle session to end", func() bool { return tt.echo.ended.Load() == 1 })
	if code, _ := s.do(t, "idle", []byte{0}); code != http.StatusNotFound {
		t.Fatalf("idle after expiry: %d, want 404", code)
	}
	if n := tt.Stats().Sessions; n != 0 {
		t.Fatalf("%d sessions left", n)
	}
}

// TestTunnelServeEndsSessions: when Serve's ctx ends, every session ends
// and Serve returns after their ServeConn calls; later opens are refused.
func TestTunnelServeEndsSessions(t *testing.T) {
	tt := startTunnel(t, Options{})
	tt.open(t)
	tt.open(t)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- tt.Serve(ctx) }()
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after its ctx ended")
	}
	if n := tt.echo.ended.Load(); n != 2 {
		t.Fatalf("%d sessions ended, want 2", n)
	}
	if code, _ := tt.post(t, "/open/1", []byte{0}); code != http.StatusServiceUnavailable {
		t.Fatalf("open after Serve: %d, want 503", code)
	}
}

// TestConnDeadlines: Read and Write honour their deadlines, and Write blocks
// while MaxBuffered bytes wait for the client.
func TestConnDeadlines(t *testing.T) {
	c := newConn("x", "rtmpt", nil, nil, 4)
	c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := c.Read(make([]byte, 1)); !isTimeout(err) {
		t.Fatalf("read: %v, want timeout", err)
	}
	c.SetWriteDeadline(time.Now().Add(20 * time.Millisecond))
	n, err := c.Write([]byte("123456"))
	if n != 4 || !isTimeout(err) {
		t.Fatalf("write: %d, %v; want 4 and a timeout", n, err)
	}
	c.SetWriteDeadline(time.Time{})
	done := make(chan error, 1)
	go func() { _, err := c.Write([]byte("56")); done <- err }()
	if b, _ := c.take(10, 0); string(b) != "1234" {
		t.Fatalf("take %q", b)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	c.end()
	c.SetReadDeadline(time.Time{})
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read after end: %v, want EOF", err)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// FuzzTunnelRequest: any method, path and body gets an answer, never a
// panic, and a session opened before keeps working.
func FuzzTunnelRequest(f *testing.F) {
	for _, tt := range pathCases {
		f.Add("POST", tt.path, []byte{0})
	}
	f.Add("GET", "/open/1", []byte(nil))
	f.Add("POST", "/send/aaaaaaaaaaaaaaaaaaaaaaaaaa/1", []byte("\x03\x00\x00"))
	tun := New(&echoServer{}, Options{MaxBody: 4096, Hold: -1, MaxSessions: 16})
	defer tun.Close()
	f.Fuzz(func(t *testing.T, method, path string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Method = method
		req.URL.Path = path
		w := httptest.NewRecorder()
		tun.ServeHTTP(w, req)
		if w.Code == 0 {
			t.Fatal("no status")
		}
		tun.mu.Lock()
		for id, s := range tun.sessions { // keep the table small across inputs
			delete(tun.sessions, id)
			s.idle.Stop()
			s.conn.end()
		}
		tun.mu.Unlock()
	})
}

// TestTunnelSessionsPerIP: one address cannot take more than its share of
// the sessions (1 320 opens from 6 addresses used to fill the whole cap);
// another address still opens, and an ended session frees its slot.
func TestTunnelSessionsPerIP(t *testing.T) {
	tt := startTunnel(t, Options{MaxSessions: 10, MaxSessionsPerIP: 2, Hold: -1})
	from := func(ip string) *http.Client {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	}
	open := func(c *http.Client) (int, string) {
		resp, err := c.Post(tt.url+"/open/1", ContentType, bytes.NewReader([]byte{0}))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}
	attacker, other := from("127.0.0.1"), from("127.0.0.2")
	var ids []string
	for range 2 {
		code, id := open(attacker)
		if code != http.StatusOK {
			t.Fatalf("open within the share: %d", code)
		}
		ids = append(ids, id)
	}
	if code, _ := open(attacker); code != http.StatusServiceUnavailable {
		t.Fatalf("third open from one address: %d, want 503", code)
	}
	if code, _ := open(other); code != http.StatusOK {
		t.Fatalf("open from another address: %d, want 200", code)
	}
	if st := tt.Stats(); st.Refused != 1 || st.Sessions != 3 {
		t.Fatalf("stats %+v, want 1 refused and 3 open", st)
	}
	resp, err := attacker.Post(tt.url+"/close/"+ids[0]+"/1", ContentType, bytes.NewReader([]byte{0}))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	testwait.For(t, 5*time.Second, "the closed session's slot", func() bool {
		code, _ := open(attacker)
		return code == http.StatusOK
	})
}
