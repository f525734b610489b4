package rtmpt

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// Client-side polling: after an empty answer the client waits for its own
// data up to interval × pollUnit, capped at maxPoll, before the next idle.
const (
	pollUnit       = 5 * time.Millisecond
	maxPoll        = 100 * time.Millisecond
	clientBuffered = 1 << 20
	maxSend        = 64 << 10         // bytes per send, well under a server's MaxBody
	readWait       = 30 * time.Second // how long answers wait for the user to read
)

// Dial opens a tunnel session at base ("http://host:port" for RTMPT,
// "https://…" for RTMPTS) and returns it as a net.Conn carrying the RTMP
// bytes; a goroutine posts what is written and polls for what to read
// until Close. hc nil means http.DefaultClient.
func Dial(ctx context.Context, base string, hc *http.Client) (net.Conn, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	base = strings.TrimSuffix(u.String(), "/")
	body, err := post(ctx, hc, base+"/open/1", []byte{0})
	if err != nil {
		return nil, err
	}
	id := strings.TrimSpace(string(body))
	if !validID(id) {
		return nil, fmt.Errorf("rtmpt: open answered with a bad session id %q", body)
	}
	transport := "rtmpt"
	if u.Scheme == "https" {
		transport = "rtmpts"
	}
	remote, _ := net.ResolveTCPAddr("tcp", u.Host)
	var nilAddr *net.TCPAddr
	c := &clientConn{Conn: newConn(id, transport, nilAddr, remote, clientBuffered), hc: hc, base: base}
	c.stop = make(chan struct{})
	go c.loop()
	return c, nil
}

// clientConn is the client's side of a session: the same Conn, read and
// written by the user, filled and drained by loop.
type clientConn struct {
	*Conn
	hc     *http.Client
	base   string
	seq    atomic.Uint64
	stop   chan struct{}
	closed atomic.Bool
}

// Close ends the session and tells the server.
func (c *clientConn) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	c.Conn.Close()
	<-c.stop
	return nil
}

func (c *clientConn) loop() {
	defer close(c.stop)
	var wait time.Duration
	for {
		out, done := c.Conn.take(maxSend, wait)
		if done && len(out) == 0 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			post(ctx, c.hc, c.path("close"), []byte{0})
			cancel()
			c.Conn.end()
			return
		}
		cmd := "send"
		if len(out) == 0 {
			cmd, out = "idle", []byte{0}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		body, err := post(ctx, c.hc, c.path(cmd), out)
		cancel()
		if err != nil || len(body) == 0 {
			c.Conn.end()
			return
		}
		if len(body) > 1 {
			if err := c.Conn.deliver(body[1:], readWait); err != nil {
				c.Conn.end()
				return
			}
			wait = 0
		} else {
			wait = min(time.Duration(body[0])*pollUnit, maxPoll)
		}
	}
}

func (c *clientConn) path(cmd string) string {
	return fmt.Sprintf("%s/%s/%s/%d", c.base, cmd, c.id, c.seq.Add(1))
}

func post(ctx context.Context, hc *http.Client, u string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", ContentType)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, clientBuffered+1))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: %s for %s", ErrHTTPStatus, resp.Status, u)
	}
	return b, nil
}
