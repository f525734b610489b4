package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"
)

// Cluster joins this node to others over NATS (package cluster,
// docs/CLUSTER.md). Off by default: one node, nothing changes.
type Cluster struct {
	Enabled bool `yaml:"enabled"`
	// Node names this node, unique in the cluster: letters, digits, '-'
	// and '_'; "" = the host name (other characters become '-').
	Node string `yaml:"node"`
	// Secret is shared by every node: the token NATS clients present and
	// the password of the routes between embedded servers (16 characters
	// or more; FLASHVOX_CLUSTER_SECRET keeps it out of the file).
	Secret string `yaml:"secret"`
	// NATSURL joins an external NATS (nats://HOST:PORT, whose clients
	// present Secret as their token) instead of running an embedded server.
	NATSURL string `yaml:"nats_url"`
	// Listen is the embedded server's route port, the one its peers'
	// Routes name.
	Listen string `yaml:"listen"`
	// Routes are the other nodes' route addresses (host:port); this
	// node's own address may be listed too (one list for every node).
	Routes []string `yaml:"routes"`
	// ClientListen is a NATS client port of the embedded server for tools
	// (nats CLI, monitoring); "" = none: the node talks to its embedded
	// server in-process.
	ClientListen string `yaml:"client_listen"`
	// TLSCert and TLSKey are this node's PEM pair and TLSCA the PEM CA
	// that signed every node's certificate: with the three, routes and
	// the client port take only mutual TLS against TLSCA, and the
	// connection to NATSURL verifies the server against it and presents
	// the pair. The pair is read again on SIGHUP; the CA needs a restart.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	TLSCA   string `yaml:"tls_ca"`
	// InsecurePlaintext lets the NATS traffic leave loopback without TLS
	// (a route port, route, client port or NATSURL on another address):
	// refused at start otherwise. For a private network you trust.
	InsecurePlaintext bool `yaml:"insecure_plaintext"`
	// Heartbeat is how often the node publishes its load; a node silent
	// for three heartbeats is gone.
	Heartbeat time.Duration `yaml:"heartbeat"`
	// RelayBatch is the longest a relayed frame waits to share one NATS
	// message with the other frames going to the same node (0 = no
	// wait; a quiet node sends each frame at once either way).
	RelayBatch time.Duration `yaml:"relay_batch"`
	// RTMPURL is how clients reach this node's RTMP listener
	// (rtmp://HOST:PORT), told to the other nodes for redirects; "" =
	// never redirect a client here.
	RTMPURL string `yaml:"rtmp_url"`
	// HTTPURL is how browsers reach this node's page (http(s)://HOST:PORT)
	// and RTMFPAddr its RTMFP listener (IP:port): other nodes above their
	// load send new page loads (307) and RTMFP handshakes (Redirect)
	// there; "" = never send one here.
	HTTPURL   string `yaml:"http_url"`
	RTMFPAddr string `yaml:"rtmfp_addr"`
	// RedirectAbove redirects a new RTMP connect to the least loaded other
	// node while this one has more client connections than this (0 = never).
	RedirectAbove int `yaml:"redirect_above"`
}

// minClusterSecret is the shortest accepted cluster.secret.
const minClusterSecret = 16

// NodeName is cluster.node, or the host name made subject-safe.
func (c Cluster) NodeName() string {
	if c.Node != "" {
		return c.Node
	}
	h, err := os.Hostname()
	if err != nil || h == "" {
		h = "node"
	}
	b := []byte(h)
	for i, ch := range b {
		if !nodeChar(ch) {
			b[i] = '-'
		}
	}
	return string(b[:min(len(b), 64)])
}

func nodeChar(ch byte) bool {
	return ch == '-' || ch == '_' || (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
}

func (c *Config) validateCluster() error {
	k := c.Cluster
	if !k.Enabled {
		return nil
	}
	if len(k.Node) > 64 || strings.IndexFunc(k.Node, func(r rune) bool { return r > 127 || !nodeChar(byte(r)) }) >= 0 {
		return &Error{Key: "cluster.node", Msg: fmt.Sprintf("must be 1..64 letters, digits, '-' or '_', got %q", k.Node)}
	}
	if len(k.Secret) < minClusterSecret {
		return &Error{Key: "cluster.secret", Msg: fmt.Sprintf("must be %d characters or more when cluster.enabled (every node shares it)", minClusterSecret)}
	}
	if err := durRange("cluster.heartbeat", k.Heartbeat, 100*time.Millisecond, time.Minute)(); err != nil {
		return err
	}
	if err := durRange("cluster.relay_batch", k.RelayBatch, 0, 20*time.Millisecond)(); err != nil {
		return err
	}
	if k.RTMPURL != "" {
		u, err := url.Parse(k.RTMPURL)
		if err != nil || u.Scheme != "rtmp" || u.Host == "" || u.RawQuery != "" {
			return &Error{Key: "cluster.rtmp_url", Msg: fmt.Sprintf("must be rtmp://HOST:PORT, got %q", k.RTMPURL)}
		}
	}
	if k.HTTPURL != "" {
		u, err := url.Parse(k.HTTPURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || strings.Trim(u.Path, "/") != "" {
			return &Error{Key: "cluster.http_url", Msg: fmt.Sprintf("must be http(s)://HOST:PORT, got %q", k.HTTPURL)}
		}
	}
	if k.RTMFPAddr != "" {
		if _, err := netip.ParseAddrPort(k.RTMFPAddr); err != nil {
			return &Error{Key: "cluster.rtmfp_addr", Msg: fmt.Sprintf("must be IP:port (an RTMFP Redirect carries addresses), got %q", k.RTMFPAddr)}
		}
	}
	if err := intRange("cluster.redirect_above", k.RedirectAbove, 0, 1_000_000)(); err != nil {
		return err
	}
	if err := k.validateTLS(); err != nil {
		return err
	}
	if k.NATSURL != "" {
		u, err := url.Parse(k.NATSURL)
		if err != nil || (u.Scheme != "nats" && u.Scheme != "tls") || u.Host == "" {
			return &Error{Key: "cluster.nats_url", Msg: fmt.Sprintf("must be nats://HOST:PORT, got %q", redactURL(k.NATSURL))}
		}
		if len(k.Routes) > 0 {
			return &Error{Key: "cluster.routes", Msg: "routes are the embedded server's: leave them out with cluster.nats_url"}
		}
	} else {
		if err := addr("cluster.listen", k.Listen)(); err != nil {
			return err
		}
		if err := optAddr("cluster.client_listen", k.ClientListen)(); err != nil {
			return err
		}
		for i, r := range k.Routes {
			if err := addr(fmt.Sprintf("cluster.routes[%d]", i), r)(); err != nil {
				return err
			}
		}
	}
	// Nothing is open by default once a listener leaves loopback: in
	// clear, the secret and every stream would cross the network
	// readable and forgeable by anyone on the path.
	if key, a, ok := k.ClearBeyondLoopback(); ok && !k.InsecurePlaintext {
		return &Error{Key: key, Msg: fmt.Sprintf("%s is beyond loopback and the cluster's NATS traffic would be in clear (the secret and every stream): "+
			"set cluster.tls_cert, tls_key and tls_ca (docs/CLUSTER.md \"TLS between nodes\"), or cluster.insecure_plaintext: true on a private network", a)}
	}
	return nil
}

// validateTLS: the cluster's TLS is the three files or none (a lone one
// is a typo that would otherwise leave the traffic in clear).
func (k Cluster) validateTLS() error {
	set := 0
	for _, f := range []string{k.TLSCert, k.TLSKey, k.TLSCA} {
		if f != "" {
			set++
		}
	}
	if set == 0 || set == 3 {
		return nil
	}
	for _, f := range []struct{ key, v string }{{"cluster.tls_cert", k.TLSCert}, {"cluster.tls_key", k.TLSKey}, {"cluster.tls_ca", k.TLSCA}} {
		if f.v == "" {
			return &Error{Key: f.key, Msg: "cluster.tls_cert, tls_key and tls_ca go together (this node's pair and the CA of every node's)"}
		}
	}
	return nil
}

// TLS reports whether the cluster's NATS traffic is under TLS.
func (k Cluster) TLS() bool { return k.TLSCert != "" }

// ClearBeyondLoopback returns the first of the cluster's addresses whose
// NATS traffic would leave loopback in clear (its key and host:port): the
// route port, client port or a route of the embedded server, or a
// nats:// NATSURL (tls:// is TLS with the system's CAs). ok is false with
// the cluster's TLS, or when every address is loopback. An unset client
// port is loopback (the embedded server's own choice).
func (k Cluster) ClearBeyondLoopback() (key, hostPort string, ok bool) {
	if k.TLS() {
		return "", "", false
	}
	type at struct{ key, addr string }
	var all []at
	if k.NATSURL != "" {
		u, err := url.Parse(k.NATSURL)
		if err != nil || u.Scheme != "nats" {
			return "", "", false
		}
		port := u.Port()
		if port == "" {
			port = "4222"
		}
		all = append(all, at{"cluster.nats_url", net.JoinHostPort(u.Hostname(), port)})
	} else {
		all = append(all, at{"cluster.listen", k.Listen}, at{"cluster.client_listen", k.ClientListen})
		for i, r := range k.Routes {
			all = append(all, at{fmt.Sprintf("cluster.routes[%d]", i), r})
		}
	}
	for _, a := range all {
		if a.addr != "" && !loopback(a.addr) {
			return a.key, a.addr, true
		}
	}
	return "", "", false
}
