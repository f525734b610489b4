package cluster

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testca"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/media"
	"github.com/nats-io/nats.go"
)

// TestPeerClusterTLSExternalNATS: Debian's nats-server requires TLS with
// client certificates of the cluster's CA (and the secret): two nodes
// with certificates of that CA join it, see each other and relay a
// stream; a node with another CA and one without TLS are refused and do
// not start, and a client with a certificate of another CA beside the
// cluster's CA is refused.
func TestPeerClusterTLSExternalNATS(t *testing.T) {
	testpeer.SkipShort(t, "nats-server")
	ca := testca.New(t, "cluster")
	srv := issue(t, ca, "nats", 100)
	port := strconv.Itoa(testpeer.FreePort(t))
	natsd := testpeer.Start(t, time.Minute, "nats-server", "-a", "127.0.0.1", "-p", port, "--auth", testSecret,
		"--tlsverify", "--tlscert", srv.Cert, "--tlskey", srv.Key, "--tlscacert", srv.CA)
	testpeer.WaitTCP(t, "127.0.0.1:"+port, 10*time.Second)
	url := "nats://127.0.0.1:" + port

	var nodes []*node
	for i, name := range []string{"a", "b"} {
		files := issue(t, ca, name, int64(i+1))
		nodes = append(nodes, startNode(t, Options{Node: name, Secret: testSecret, NATSURL: url, TLS: &files, Heartbeat: 200 * time.Millisecond}))
	}
	a, b := nodes[0], nodes[1]
	for _, n := range nodes {
		testwait.For(t, 10*time.Second, n.c.Node()+" sees a and b", func() bool { return names(n.c.Nodes()) == "a,b" })
	}
	if cs, err := a.c.Conn().TLSConnectionState(); err != nil || cs.PeerCertificates[0].Subject.CommonName != "nats" {
		t.Fatalf("a's connection is not the server's TLS: %v", err)
	}
	pumped(t, a.hub, "live/x")
	onB := &collector{}
	defer b.hub.Subscribe("live/x", onB).Close()
	testwait.For(t, 10*time.Second, "b plays a's stream through the TLS nats-server", func() bool { return onB.count() >= 20 })

	for _, c := range []struct {
		name string
		tls  *TLSFiles
	}{
		{"another CA", new(issue(t, testca.New(t, "stranger"), "spy", 1))},
		{"no TLS", nil},
	} {
		spy, err := New(Options{Node: "spy", Secret: testSecret, NATSURL: url, TLS: c.tls, Hub: media.NewHub(8, nil), Logger: testLogger(t)})
		if err == nil {
			spy.Close()
			t.Errorf("%s: the spy joined", c.name)
			continue
		}
		t.Logf("%s: refused: %v", c.name, err)
	}
	// A client that trusts the cluster's CA and presents a certificate of
	// another, whatever CAs the server asks for (New would not even start
	// with such a pair): the server refuses it.
	forgedTLS := forgedClient(t, ca)
	if nc, err := nats.Connect(url, nats.Token(testSecret), nats.Secure(forgedTLS), nats.MaxReconnects(0), nats.Timeout(2*time.Second)); err == nil {
		nc.Close()
		t.Error("a client with a forged certificate was let in")
	} else {
		t.Logf("forged certificate: refused: %v", err)
	}
	testwait.For(t, 5*time.Second, "nats-server to log the forged certificate refused", func() bool {
		return strings.Contains(natsd.Output(), "failed to verify client certificate")
	})
	if got := names(a.c.Nodes()); got != "a,b" {
		t.Errorf("a sees %s", got)
	}
}
