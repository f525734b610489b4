package app

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/internal/tlscert"
)

var turnsLink = regexp.MustCompile(`^<turns:127\.0\.0\.1:(\d+)\?transport=tcp>; rel="ice-server"; username="[^"]+"; credential="[^"]+"`)

// TestWebRTCTURNS: with webrtc.turns_listen the answers advertise a
// turns: URL whose listener serves http.tls_cert's pair, and serves the
// new pair after a reload (SIGHUP); its connections show in /metrics.
func TestWebRTCTURNS(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := tlscert.WriteFiles(cert, key, []string{"127.0.0.1"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	a := startP2PApp(t, "", "FLASHVOX_WEBRTC_TURNS_LISTEN=127.0.0.1:0", "FLASHVOX_WEBRTC_TURN_TCP_LISTEN=127.0.0.1:0",
		"FLASHVOX_HTTP_TLS_LISTEN=127.0.0.1:0", "FLASHVOX_HTTP_TLS_CERT="+cert, "FLASHVOX_HTTP_TLS_KEY="+key)
	req, _ := http.NewRequest("OPTIONS", a.http+"/live/x/whep", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var port string
	for _, l := range res.Header.Values("Link") {
		if m := turnsLink.FindStringSubmatch(l); m != nil {
			port = m[1]
		}
	}
	if port == "" {
		t.Fatalf("no turns: Link header in %q", res.Header.Values("Link"))
	}
	if !strings.Contains(strings.Join(res.Header.Values("Link"), "\n"), "?transport=tcp>") {
		t.Fatal("no turn:…?transport=tcp Link header")
	}
	// dial connects over TLS trusting only the pair now in the files.
	dial := func() *tls.Conn {
		pem, err := os.ReadFile(cert)
		if err != nil {
			t.Fatal(err)
		}
		roots := x509.NewCertPool()
		roots.AppendCertsFromPEM(pem)
		c, err := tls.Dial("tcp", "127.0.0.1:"+port, &tls.Config{RootCAs: roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12})
		if err != nil {
			t.Fatalf("TLS to turns_listen with http.tls_cert's pair: %v", err)
		}
		return c
	}
	c := dial()
	defer c.Close()
	testwait.For(t, 5*time.Second, "the connection in /metrics", func() bool {
		return a.metrics(t)[`flashvox_webrtc_turn_connections{transport="tls"}`] == 1
	})
	if err := tlscert.WriteFiles(cert, key, []string{"127.0.0.1"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := a.srv.httpCerts.Reload(); err != nil { // what SIGHUP does (reload.go)
		t.Fatal(err)
	}
	dial().Close()
}
