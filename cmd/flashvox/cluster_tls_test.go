package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testca"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

// TestPeerClusterTLS: two flashvox processes whose routes run mutual TLS
// (cluster.tls_*) form a cluster; a third with a certificate of another
// CA is refused by their routes and sees no one; a SIGHUP makes a's routes
// present its renewed certificate; a route port beyond loopback without
// TLS refuses the start.
func TestPeerClusterTLS(t *testing.T) {
	testpeer.SkipShort(t, "flashvox processes")
	ca := testca.New(t, "cluster")
	routes := []string{"127.0.0.1:" + strconv.Itoa(testpeer.FreePort(t)), "127.0.0.1:" + strconv.Itoa(testpeer.FreePort(t))}
	yaml := fmt.Sprintf("cluster:\n  routes: [%s]\n  tls_ca: %s\n", strings.Join(routes, ", "), ca.File)
	var nodes []*server
	for i, name := range []string{"a", "b"} {
		cert, key := ca.Issue(t, name, 1)
		nodes = append(nodes, startClusterNode(t, name, yaml, "FLASHVOX_CLUSTER_LISTEN="+routes[i],
			"FLASHVOX_CLUSTER_TLS_CERT="+cert, "FLASHVOX_CLUSTER_TLS_KEY="+key))
	}
	a := nodes[0]
	for _, s := range nodes {
		testwait.For(t, 15*time.Second, "a and b in /api/v1/cluster", func() bool { return strings.Join(clusterNodes(t, s), ",") == "a,b" })
	}

	stranger := testca.New(t, "stranger")
	cert, key := stranger.Issue(t, "spy", 1)
	spy := startClusterNode(t, "spy", "cluster:\n  routes: ["+routes[0]+"]\n", "FLASHVOX_CLUSTER_LISTEN=127.0.0.1:0",
		"FLASHVOX_CLUSTER_TLS_CERT="+cert, "FLASHVOX_CLUSTER_TLS_KEY="+key, "FLASHVOX_CLUSTER_TLS_CA="+stranger.File)
	testwait.For(t, 15*time.Second, "the spy's route refused twice", func() bool {
		return strings.Count(spy.logs.String(), "TLS route handshake error") >= 2
	})
	if got := strings.Join(clusterNodes(t, spy), ","); got != "spy" {
		t.Errorf("the spy sees %s", got)
	}
	for _, s := range nodes {
		if got := strings.Join(clusterNodes(t, s), ","); got != "a,b" {
			t.Errorf("a member sees %s", got)
		}
	}

	// A renewed certificate: new routes get it after a SIGHUP.
	toolCert, toolKey := ca.Issue(t, "tool", 9)
	pair, err := tls.LoadX509KeyPair(toolCert, toolKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pem, _ := os.ReadFile(ca.File)
	pool.AppendCertsFromPEM(pem)
	serial := func() int64 {
		conn, err := tls.Dial("tcp", routes[0], &tls.Config{Certificates: []tls.Certificate{pair}, RootCAs: pool})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
	}
	if s := serial(); s != 1 {
		t.Fatalf("a's route presents serial %d", s)
	}
	ca.Issue(t, "a", 2)
	if err := a.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 15*time.Second, "a's route to present the renewed certificate", func() bool { return serial() == 2 })
	testwait.For(t, 15*time.Second, "the reload logged", func() bool { return strings.Contains(a.logs.String(), "key=cluster.tls_cert") })

	// Beyond loopback without TLS: refused at start, naming the key and the opt-out.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	open := exec.CommandContext(ctx, flashvoxBin(t))
	open.Env = append(os.Environ(), "FLASHVOX_RTMP_LISTEN=127.0.0.1:0", "FLASHVOX_HTTP_LISTEN=127.0.0.1:0", "FLASHVOX_SIP_LISTEN=127.0.0.1:0",
		"FLASHVOX_RTMFP_LISTEN=127.0.0.1:0", "FLASHVOX_CLUSTER_ENABLED=true", "FLASHVOX_CLUSTER_NODE=open",
		"FLASHVOX_CLUSTER_SECRET="+clusterSecret, "FLASHVOX_CLUSTER_LISTEN=0.0.0.0:0")
	msg, err := open.CombinedOutput()
	if err == nil || !strings.Contains(string(msg), "cluster.listen") || !strings.Contains(string(msg), "insecure_plaintext") {
		t.Fatalf("a route port on every address in clear: %v\n%s", err, msg)
	}
}
