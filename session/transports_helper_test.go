package session_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/internal/tlscert"
	"github.com/flashvox/flashvox/rtmp/rtmpt"
)

// transports are the extra listeners of one test server: RTMPS, RTMPT and
// RTMPTS, all serving the same rtmp.Server (and so the same hub).
type transports struct {
	srv                  *testServer
	Tunnel               *rtmpt.Tunnel
	RTMPS, RTMPT, RTMPTS string // host:port
	CertFile, KeyFile    string
}

// App is SCHEME://ADDR/live, the URL Go clients dial.
func (tr *transports) App(scheme string) string {
	u := tr.URL(scheme, "")
	return u[:len(u)-1]
}

// URL is SCHEME://ADDR/live/NAME for the listener that speaks scheme.
func (tr *transports) URL(scheme, name string) string {
	addr := tr.srv.Addr
	switch scheme {
	case "rtmps":
		addr = tr.RTMPS
	case "rtmpt", "rtmpte":
		addr = tr.RTMPT
	case "rtmpts":
		addr = tr.RTMPTS
	}
	return fmt.Sprintf("%s://%s/live/%s", scheme, addr, name)
}

// startTransports adds TLS and tunnel listeners to srv, with a self-signed
// certificate made for the test.
func startTransports(t testing.TB, srv *testServer, opts rtmpt.Options) *transports {
	t.Helper()
	dir := t.TempDir()
	tr := &transports{srv: srv, CertFile: filepath.Join(dir, "cert.pem"), KeyFile: filepath.Join(dir, "key.pem")}
	if err := tlscert.WriteFiles(tr.CertFile, tr.KeyFile, []string{"127.0.0.1", "localhost"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	certs, err := tlscert.NewReloader(tr.CertFile, tr.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	listen := func() net.Listener {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return ln
	}
	if opts.Logger == nil {
		opts.Logger = srv.Srv.Logger
	}
	tr.Tunnel = rtmpt.New(srv.Srv, opts)
	ctx, cancel := context.WithCancel(context.Background())
	rtmpsLn := tls.NewListener(listen(), certs.Config())
	tunLn, tunsLn := listen(), tls.NewListener(listen(), certs.Config())
	tr.RTMPS, tr.RTMPT, tr.RTMPTS = rtmpsLn.Addr().String(), tunLn.Addr().String(), tunsLn.Addr().String()
	serves := []func() error{
		func() error { return srv.Srv.Serve(ctx, rtmpsLn) },
		func() error { return tr.Tunnel.ServeListener(ctx, tunLn) },
		func() error { return tr.Tunnel.ServeListener(ctx, tunsLn) },
	}
	done := make(chan struct{}, len(serves))
	for _, serve := range serves {
		go func() {
			defer func() { done <- struct{}{} }()
			if err := serve(); err != nil {
				t.Errorf("serve: %v", err)
			}
		}()
	}
	t.Cleanup(func() {
		cancel()
		for range serves {
			<-done
		}
		tr.Tunnel.Close()
	})
	return tr
}

// relayPeers publishes source with ffmpeg to pubURL while an ffmpeg player on
// ffURL and an rtmpdump player on rdURL (either may be "") wait for it, and
// returns their recordings.
func relayPeers(t *testing.T, dir, source, pubURL, ffURL, rdURL string, rdArgs []string, ready func() bool) (ffOut, rdOut string) {
	t.Helper()
	var procs []*testpeer.Proc
	if ffURL != "" {
		ffOut = filepath.Join(dir, "ffmpeg-play.flv")
		procs = append(procs, testpeer.Start(t, 40*time.Second, "ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", ffURL, "-c", "copy", "-f", "flv", ffOut))
	}
	if rdURL != "" {
		rdOut = filepath.Join(dir, "rtmpdump-play.flv")
		args := append([]string{"-q", "-r", rdURL, "--live", "-o", rdOut}, rdArgs...)
		procs = append(procs, testpeer.Start(t, 40*time.Second, "rtmpdump", args...))
	}
	testwait.For(t, 10*time.Second, "the players to subscribe", ready)
	out, err := testpeer.Run(t, 40*time.Second, "ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", source, "-c", "copy", "-f", "flv", pubURL)
	if err != nil {
		t.Fatalf("publish to %s: %v\n%s", pubURL, err, out)
	}
	for _, p := range procs {
		select {
		case <-p.Done():
		case <-time.After(10 * time.Second):
			t.Errorf("%s did not stop after the publisher left", p.Name)
			p.Stop()
		}
	}
	return ffOut, rdOut
}
