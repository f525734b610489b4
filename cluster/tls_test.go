package cluster

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/flashvox/flashvox/internal/test/testca"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/internal/tlscert"
)

// routeRefused is what the embedded server logs when a route's TLS
// handshake fails (nats-server's "TLS route handshake error").
const routeRefused = "TLS route handshake error"

// TestTLSRoutes: two nodes whose routes run mutual TLS against the
// cluster's CA see each other and relay a stream; a NATS server holding
// the secret but a certificate of another CA, a certificate of another CA
// beside the cluster's CA, or no TLS cannot route in: nothing of the
// cluster reaches it, and its heartbeats reach no node.
func TestTLSRoutes(t *testing.T) {
	testpeer.SkipShort(t, "seconds of real-time media and timers")
	ca := testca.New(t, "cluster")
	rec := newLogRecorder(testLogger(t).Handler())
	ns := startNodesWith(t, []string{"a", "b"}, func(i int, o *Options) {
		o.TLS = new(issue(t, ca, o.Node, 1))
		if i == 0 {
			o.Logger = slog.New(rec)
		}
	})
	a, b := ns[0], ns[1]
	pumped(t, a.hub, "live/x")
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
			spy := startSpy(t, a.route, c.tls)
			// The spy retries its route every second: two refusals
			// logged by a, and b still playing, are time enough for
			// heartbeats and frames to cross if they could.
			testwait.For(t, 10*time.Second, "a to refuse the spy's route twice", func() bool {
				spy.beat()
				return rec.count(routeRefused) >= before+2
			})
			played := onB.count()
			testwait.For(t, 5*time.Second, "b to go on playing", func() bool { return onB.count() >= played+20 })
			if n := spy.ns.NumRoutes(); n != 0 {
				t.Errorf("the spy has %d routes", n)
			}
			if n := spy.got.Load(); n != 0 {
				t.Errorf("the spy got %d messages of the cluster", n)
			}
			for _, n := range ns {
				if got := names(n.c.Nodes()); got != "a,b" {
					t.Errorf("%s sees %s", n.c.Node(), got)
				}
			}
		})
	}
}

// spy is a NATS server that holds the cluster's secret and tries to route
// to a node, with a client in it that hears every subject and claims to
// be a node.
type spy struct {
	ns  *server.Server
	nc  *nats.Conn
	got atomic.Int64 // messages heard: anything is a leak
}

// startSpy starts it with the TLS files f as they are (nil: no TLS): an
// attacker's server does not check its certificate as New does.
func startSpy(t *testing.T, route string, f *TLSFiles) *spy {
	t.Helper()
	var nt *nodeTLS
	if f != nil {
		pair, err := tlscert.NewReloader(f.Cert, f.Key)
		if err != nil {
			t.Fatal(err)
		}
		pool := x509.NewCertPool()
		pem, _ := os.ReadFile(f.CA)
		pool.AppendCertsFromPEM(pem)
		nt = &nodeTLS{files: *f, pair: pair, pool: pool}
	}
	s := &spy{}
	var err error
	if s.ns, err = startEmbedded(&Options{Node: "spy", Secret: testSecret, Listen: "127.0.0.1:0", Routes: []string{route}}, nt, testLogger(t).With("node", "spy")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.ns.Shutdown(); s.ns.WaitForShutdown() })
	if s.nc, err = nats.Connect("", nats.InProcessServer(s.ns), nats.Token(testSecret)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.nc.Close)
	if _, err := s.nc.Subscribe(">", func(m *nats.Msg) {
		if !strings.HasPrefix(m.Subject, "_INBOX.") && !(m.Subject == subjHeartbeat && strings.Contains(string(m.Data), `"spy"`)) {
			s.got.Add(1)
		}
	}); err != nil {
		t.Fatal(err)
	}
	return s
}

// beat claims node "spy" to whoever hears it.
func (s *spy) beat() {
	b, _ := json.Marshal(heartbeat{Node: "spy", Started: time.Now()})
	_ = s.nc.Publish(subjHeartbeat, b)
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
	stranger := forgedClient(t, ca)
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

// forgedClient is a client's TLS configuration that trusts the cluster's
// CA and presents a certificate of another whatever CAs the server asks
// for (Go's client would otherwise send none).
func forgedClient(t testing.TB, ca *testca.CA) *tls.Config {
	c := clientTLS(t, *forged(t, ca))
	cert := c.Certificates[0]
	c.Certificates = nil
	c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
	return c
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
	// A pair of another CA would cut the node off at its next route.
	other := issue(t, testca.New(t, "stranger"), "a", 3)
	copyFile(t, other.Cert, files.Cert)
	copyFile(t, other.Key, files.Key)
	if err := n.c.ReloadTLS(); !errors.Is(err, errNotOfTheCA) {
		t.Fatalf("a pair of another CA: %v", err)
	}
	if s := serial(); s != 2 {
		t.Fatalf("serial %d after a reload of another CA's pair, want 2 kept", s)
	}
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestTLSFilesRefused: a node whose TLS files are missing or are no CA
// does not start (rather than run in clear).
func TestTLSFilesRefused(t *testing.T) {
	ca := testca.New(t, "cluster")
	good := issue(t, ca, "a", 1)
	stranger := issue(t, testca.New(t, "stranger"), "a", 1)
	for _, f := range []TLSFiles{
		{Cert: stranger.Cert, Key: stranger.Key, CA: good.CA}, // a pair the cluster's CA did not sign
		{Cert: good.Cert, Key: good.Key, CA: good.Key},        // a key where the CA should be
		{Cert: good.Cert, Key: good.Cert, CA: good.CA},        // no key
		{Cert: good.Cert + ".missing", Key: good.Key, CA: good.CA},
	} {
		c, err := New(Options{Node: "a", Secret: testSecret, Listen: "127.0.0.1:0", TLS: &f, Logger: testLogger(t)})
		if err == nil {
			c.Close()
			t.Errorf("%+v: started", f)
		}
	}
}
