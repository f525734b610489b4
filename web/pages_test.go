package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPagesServed(t *testing.T) {
	swf := filepath.Join(t.TempDir(), "flashvox.swf")
	mux := http.NewServeMux()
	(&Pages{SWF: swf, RTMPPort: 1936}).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	get := func(path string) (*http.Response, string) {
		t.Helper()
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	res, body := get("/")
	if res.StatusCode != 200 || !strings.Contains(body, `id="login-form"`) || !strings.Contains(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("/: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if res.Header.Get("Content-Security-Policy") == "" || res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("/ headers: %v", res.Header)
	}
	for _, p := range []string{"/app.js", "/media.js", "/conf.js", "/flash.js", "/style.css"} {
		if res, _ := get(p); res.StatusCode != 200 {
			t.Errorf("%s: %d", p, res.StatusCode)
		}
	}
	if res, _ := get("/nothing-here"); res.StatusCode != 404 {
		t.Errorf("unknown file: %d", res.StatusCode)
	}
	if res, body := get("/flashvox.swf"); res.StatusCode != 404 || !strings.Contains(body, "not built on this server; run make flash") ||
		!strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("missing SWF: %d %q %q", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	if _, body := get("/page.json"); body != `{"rtmpPort":1936,"swf":false}`+"\n" {
		t.Errorf("page.json without the SWF: %q", body)
	}
	if err := os.WriteFile(swf, []byte("CWS\x0c...."), 0o644); err != nil {
		t.Fatal(err)
	}
	if res, body := get("/flashvox.swf"); res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/x-shockwave-flash" || !strings.HasPrefix(body, "CWS") {
		t.Errorf("SWF: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if _, body := get("/page.json"); body != `{"rtmpPort":1936,"swf":true}`+"\n" {
		t.Errorf("page.json with the SWF: %q", body)
	}
}

// The WebRTC edge's ICE servers reach the page's configuration.
func TestPageICEServers(t *testing.T) {
	mux := http.NewServeMux()
	(&Pages{SWF: "/nonexistent", ICEServers: func() []string { return []string{"stun:192.0.2.1:3478"} }}).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	res, err := http.Get(srv.URL + "/page.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if want := `{"rtmpPort":1935,"swf":false,"iceServers":["stun:192.0.2.1:3478"]}` + "\n"; string(b) != want {
		t.Errorf("page.json: %q, want %q", b, want)
	}
}
