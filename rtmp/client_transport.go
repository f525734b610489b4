package rtmp

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/url"

	"github.com/flashvox/flashvox/rtmp/rtmpt"
)

// defaultPorts are the ports of each scheme a Client dials.
var defaultPorts = map[string]string{
	"rtmp": "1935", "rtmpe": "1935", "rtmps": "443",
	"rtmpt": "80", "rtmpte": "80", "rtmpts": "443",
}

// dialTransport opens the byte stream the handshake runs on: TCP, TLS or
// an RTMPT tunnel session (over HTTP or HTTPS).
func dialTransport(ctx context.Context, u *url.URL, tlsConfig *tls.Config) (net.Conn, error) {
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), defaultPorts[u.Scheme])
	}
	tlsConf := func() *tls.Config {
		c := tlsConfig.Clone()
		if c == nil {
			c = &tls.Config{}
		}
		if c.ServerName == "" {
			c.ServerName = u.Hostname()
		}
		return c
	}
	switch u.Scheme {
	case "rtmps":
		d := tls.Dialer{Config: tlsConf()}
		return d.DialContext(ctx, "tcp", host)
	case "rtmpt", "rtmpte":
		return rtmpt.Dial(ctx, "http://"+host, &http.Client{})
	case "rtmpts":
		tr := &http.Transport{TLSClientConfig: tlsConf(), ForceAttemptHTTP2: false}
		return rtmpt.Dial(ctx, "https://"+host, &http.Client{Transport: tr})
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", host)
}
