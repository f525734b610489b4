package webrtc_test

import (
	"bytes"
	_ "embed"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/flashvox/flashvox/internal/test/teststack"
	"github.com/flashvox/flashvox/session"
	"github.com/flashvox/flashvox/webrtc"
)

//go:embed testdata/page.html
var page []byte

// edge is an RTMP server (teststack: "live" open, ?codec= open) and the
// WHIP/WHEP server on one hub, behind an HTTP server that also serves the
// test page.
type edge struct {
	st  *teststack.Stack
	srv *webrtc.Server
	url string // http://127.0.0.1:PORT
}

func startEdge(t testing.TB, access webrtc.Access, o webrtc.Options) *edge {
	t.Helper()
	st := teststack.Start(t, teststack.Options{Transcode: map[string]session.TranscodePolicy{"live": session.TranscodeOpen}})
	if access == nil {
		access = openLive
	}
	o.Hub, o.Transcoder, o.Access, o.Logger = st.Hub, st.Transcoder, access, st.Logger
	if o.Engine == "" {
		o.Engine = os.Getenv("FLASHVOX_TEST_WEBRTC_ENGINE")
	}
	srv, err := webrtc.New(o)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page)
	})
	hs := httptest.NewServer(srv.Handler(mux))
	t.Cleanup(func() { srv.Close(); hs.Close() })
	return &edge{st: st, srv: srv, url: hs.URL}
}

// openLive lets anyone publish and play in "live".
var openLive = webrtc.AccessFunc(func(r webrtc.Request) (string, error) {
	if r.App != "live" {
		return "", webrtc.ErrNotFound
	}
	if strings.ContainsAny(r.Name, "#") {
		return "", webrtc.ErrForbidden
	}
	return "live/" + r.Name, nil
})

func post(t testing.TB, url, ctype, auth string, body []byte) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("POST", url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	return res, string(b)
}
