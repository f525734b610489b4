package cluster

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// routeUser is the user name routes present with the cluster secret.
const routeUser = "flashvox"

// startEmbedded starts this node's NATS server: routes on o.Listen to
// o.Routes, every client and route authenticated by o.Secret, no client
// port beyond loopback unless o.ClientListen. With t, routes and the
// client port take only mutual TLS against the cluster's CA (the node's
// own in-process connection skips it: nats-server does not ask TLS of an
// in-process client).
func startEmbedded(o *Options, t *nodeTLS, log *slog.Logger) (*server.Server, error) {
	host, port, err := splitPort(o.Listen)
	if err != nil {
		return nil, fmt.Errorf("cluster.listen: %w", err)
	}
	opts := &server.Options{
		ServerName:      o.Node,
		NoSigs:          true,
		NoSystemAccount: true,
		Authorization:   o.Secret, // clients: the token
		MaxPayload:      1 << 20,
		MaxControlLine:  4096,
		WriteDeadline:   2 * time.Second,
		Cluster: server.ClusterOpts{
			Name:     "flashvox",
			Host:     host,
			Port:     port,
			Username: routeUser,
			Password: o.Secret,
		},
	}
	if o.ClientListen == "" {
		// nats-server starts routing only after its client listener
		// (DontListen never routes): a loopback port of the system's
		// choosing, token-protected like any; the node itself talks to
		// the server in-process.
		opts.Host, opts.Port = "127.0.0.1", server.RANDOM_PORT
	} else if opts.Host, opts.Port, err = splitPort(o.ClientListen); err != nil {
		return nil, fmt.Errorf("cluster.client_listen: %w", err)
	}
	if t != nil {
		opts.Cluster.TLSConfig = t.config()
		opts.TLSConfig, opts.TLSVerify = t.config(), true
	}
	for _, r := range o.Routes {
		opts.Routes = append(opts.Routes, &url.URL{Scheme: "nats", User: url.UserPassword(routeUser, o.Secret), Host: r})
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("cluster: nats server: %w", err)
	}
	ns.SetLoggerV2(natsLog{log}, false, false, false)
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, fmt.Errorf("cluster: nats server on %s did not start", o.Listen)
	}
	return ns, nil
}

// splitPort is host:port with port 0 meaning "any" (nats-server's -1:
// its 0 is the default port).
func splitPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, err
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	return host, port, nil
}

// natsLog sends the embedded server's log to slog: notices at debug
// (route chatter), errors as warnings (a peer not up yet is one: "Error
// trying to connect to route"), fatal errors as errors.
type natsLog struct{ l *slog.Logger }

func (n natsLog) Noticef(format string, v ...any) { n.l.Debug(fmt.Sprintf(format, v...)) }
func (n natsLog) Warnf(format string, v ...any)   { n.l.Warn(fmt.Sprintf(format, v...)) }
func (n natsLog) Fatalf(format string, v ...any)  { n.l.Error(fmt.Sprintf(format, v...)) }
func (n natsLog) Errorf(format string, v ...any)  { n.l.Warn(fmt.Sprintf(format, v...)) }
func (n natsLog) Debugf(format string, v ...any)  {}
func (n natsLog) Tracef(format string, v ...any)  {}
