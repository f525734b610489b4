package cluster

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/flashvox/flashvox/internal/test/testca"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

// routeRefused is what the embedded server logs when a route's TLS
// handshake fails (nats-server's "TLS route handshake error").
const routeRefused = "TLS route handshake error"

// TestTLSRoutes: two nodes whose routes run mutual TLS against the
// cluster's CA see each other and relay a stream; a node with a
// certificate of another CA, and a node without TLS, cannot route in:
// they are in no node table and get nothing of the stream.
func TestTLSRoutes(t *testing.T) {
	ca := testca.New(t, "cluster")
	rec := newLogRecorder(testLogger(t).Handler())
	ns := startNodesWith(t, []string{"a", "b"}, func(i int, o *Options) {
		o.TLS = new(issue(t, ca, o.Node, 1))
		if i == 0 {
			o.Logger = slog.New(rec)
		}
	})
	a, b := ns[0], ns[1]
	pub, err := a.hub.Publish("live/x")
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go pump(pub, stop)
	onB := &collector{}
	defer b.hub.Subscribe("live/x", onB).Close()
	testwait.For(t, 10*time.Second, "b plays a's stream over the TLS routes", func() bool { return onB.count() >= 20 })

	for _, c := range []struct {
		name string
		tls  *TLSFiles
	}{
		{"another CA", new(issue(t, testca.New(t, "stranger"), "spy", 1))},
		{"the cluster's CA, a certificate of another", forged(t, ca)},
		{"no TLS", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := rec.count(routeRefused)
			// The right secret: only TLS keeps it out.
			spy := startNode(t, Options{Node: "spy", Secret: testSecret, Listen: "127.0.0.1:0", Routes: []string{a.route}, TLS: c.tls, Heartbeat: 200 * time.Millisecond})
			onSpy := &collector{}
			defer spy.hub.Subscribe("live/x", onSpy).Close()
			// The spy retries its route every second: two refusals
			// logged by a, and b still playing, are time enough for
			// a heartbeat, a where and frames to cross if they could.
			testwait.For(t, 10*time.Second, "a to refuse the spy's route twice", func() bool { return rec.count(routeRefused) >= before+2 })
			played := onB.count()
			testwait.For(t, 5*time.Second, "b to go on playing", func() bool { return onB.count() >= played+20 })
			if n := spy.c.ns.NumRoutes(); n != 0 {
				t.Errorf("the spy has %d routes", n)
			}
			if got := names(spy.c.Nodes()); got != "spy" {
				t.Errorf("the spy sees %s", got)
			}
			for _, n := range ns {
				if got := names(n.c.Nodes()); got != "a,b" {
					t.Errorf("%s sees %s", n.c.Node(), got)
				}
			}
			if n := onSpy.count(); n != 0 {
				t.Errorf("the spy got %d frames of a's stream", n)
			}
		})
	}
}

// issue is a node's TLS files: a certificate of ca for 127.0.0.1 (serial
// tells reissues apart) and ca as the trusted CA.
func issue(t testing.TB, ca *testca.CA, node string, serial int64) TLSFiles {
	t.Helper()
	cert, key := ca.Issue(t, node, serial)
	return TLSFiles{Cert: cert, Key: key, CA: ca.File}
}

// forged is a certificate of another CA beside the cluster's CA (a
// public file): the spy trusts the nodes, its own certificate is wrong.
func forged(t testing.TB, ca *testca.CA) *TLSFiles {
	f := issue(t, testca.New(t, "stranger"), "spy", 1)
	f.CA = ca.File
	return &f
}

func names(ns []NodeInfo) string {
	s := ""
	for i, n := range ns {
		if i > 0 {
			s += ","
		}
		s += n.Node
	}
	return s
}

// TestTLSClientPort: with TLS, the embedded server's client port takes
// only TLS clients with a certificate of the cluster's CA, and still
// the secret as their token.
func TestTLSClientPort(t *testing.T) {
	ca := testca.New(t, "cluster")
	files := issue(t, ca, "a", 1)
	client := "127.0.0.1:" + strconv.Itoa(testpeer.FreePort(t))
	startNode(t, Options{Node: "a", Secret: testSecret, Listen: "127.0.0.1:0", ClientListen: client, TLS: &files, Heartbeat: 200 * time.Millisecond})
	tool := clientTLS(t, issue(t, ca, "tool", 2))
	stranger := clientTLS(t, *forged(t, ca))
	// Sent whatever CAs the server asks for (Go's client would send none).
	strangerCert := stranger.Certificates[0]
	stranger.Certificates = nil
	stranger.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &strangerCert, nil }
	noCert := tool.Clone()
	noCert.GetClientCertificate, noCert.Certificates = nil, nil
	for _, c := range []struct {
		name  string
		opts  []nats.Option
		tlsOK bool // refused by the token, past TLS
	}{
		{"in clear", []nats.Option{nats.Token(testSecret)}, false},
		{"no client certificate", []nats.Option{nats.Token(testSecret), nats.Secure(noCert)}, false},
		{"a certificate of another CA", []nats.Option{nats.Token(testSecret), nats.Secure(stranger)}, false},
		{"the certificate without the secret", []nats.Option{nats.Secure(tool)}, true},
	} {
		nc, err := nats.Connect("nats://"+client, append(c.opts, nats.MaxReconnects(0), nats.Timeout(2*time.Second))...)
		if err == nil {
			nc.Close()
			t.Errorf("%s: a client was let in", c.name)
		} else if c.tlsOK != errors.Is(err, nats.ErrAuthorization) {
			t.Errorf("%s: %v: refused by the wrong check", c.name, err)
		}
	}
	nc, err := nats.Connect("nats://"+client, nats.Token(testSecret), nats.Secure(tool), nats.Timeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.SubscribeSync(subjHeartbeat); err != nil {
		t.Fatal(err)
	}
	if cs, err := nc.TLSConnectionState(); err != nil || len(cs.PeerCertificates) == 0 || cs.PeerCertificates[0].Subject.CommonName != "a" {
		t.Fatalf("tls state %v %v", cs, err)
	}
}

// clientTLS is a NATS client's TLS configuration from a node's files.
func clientTLS(t testing.TB, f TLSFiles) *tls.Config {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile(f.CA)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &tls.Config{Certificates: []tls.Certificate{pair}, RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// TestTLSReload: ReloadTLS (SIGHUP) makes new routes present the
// certificate now in the files; a bad pair keeps the one in force.
func TestTLSReload(t *testing.T) {
	ca := testca.New(t, "cluster")
	files := issue(t, ca, "a", 1)
	n := startNode(t, Options{Node: "a", Secret: testSecret, Listen: "127.0.0.1:0", TLS: &files, Heartbeat: 200 * time.Millisecond})
	peer := clientTLS(t, issue(t, ca, "b", 9))
	serial := func() int64 {
		t.Helper()
		conn, err := tls.Dial("tcp", n.c.RouteAddr(), peer)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
	}
	if s := serial(); s != 1 {
		t.Fatalf("serial %d before the reload", s)
	}
	issue(t, ca, "a", 2) // the renewed certificate, same files
	if err := n.c.ReloadTLS(); err != nil {
		t.Fatal(err)
	}
	if s := serial(); s != 2 {
		t.Fatalf("serial %d after the reload, want 2", s)
	}
	if err := os.WriteFile(files.Key, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := n.c.ReloadTLS(); err == nil {
		t.Fatal("a bad pair was reloaded")
	}
	if s := serial(); s != 2 {
		t.Fatalf("serial %d after a failed reload, want 2 kept", s)
	}
}

// TestTLSFilesRefused: a node whose TLS files are missing or are no CA
// does not start (rather than run in clear).
func TestTLSFilesRefused(t *testing.T) {
	ca := testca.New(t, "cluster")
	good := issue(t, ca, "a", 1)
	for _, f := range []TLSFiles{
		{Cert: good.Cert, Key: good.Key, CA: good.Key}, // a key where the CA should be
		{Cert: good.Cert, Key: good.Cert, CA: good.CA}, // no key
		{Cert: good.Cert + ".missing", Key: good.Key, CA: good.CA},
	} {
		c, err := New(Options{Node: "a", Secret: testSecret, Listen: "127.0.0.1:0", TLS: &f, Logger: testLogger(t)})
		if err == nil {
			c.Close()
			t.Errorf("%+v: started", f)
		}
	}
}
