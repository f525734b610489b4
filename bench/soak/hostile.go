package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// attack is one hostile client kind: it runs until ctx ends (its turn),
// bounded in connections, and closes everything it opened before it
// returns. It counts what it tried, what the server refused or closed,
// and what the server let through that it should not have (leaked).
type attack struct {
	name string
	from string // source address on loopback
	run  func(ctx context.Context, s *server, from string, c *attackCount)
}

type attackCount struct {
	tried, refused, leaked atomic.Int64
	turns                  atomic.Int64
}

// attacks in turn order. The last two come from 127.0.0.1, the normal
// users' address: rtmp.Dial has no source-address option, and what they
// test (transcode and apps policy) is not per address.
func attacks() []attack {
	return []attack{
		{"rtmp half-sent messages before connect", "127.0.0.2", halfSentRTMP},
		{"idle HTTP keep-alives", "127.0.0.3", idleHTTP},
		{"RTMPT /open flood", "127.0.0.4", rtmptOpen},
		{"SIP/TCP half-sent requests", "127.0.0.5", sipHalfSent},
		{"HTTP login guessing (calla0)", "127.0.0.6", loginGuess},
		{"anonymous ?codec= players", "127.0.0.1", anonCodec},
		{"connects to unknown apps", "127.0.0.1", unknownApps},
	}
}

// dialFrom dials addr over TCP from the loopback address from.
func dialFrom(ctx context.Context, from, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: 3 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	return d.DialContext(ctx, "tcp", addr)
}

// holdConns runs n workers that each open a connection with open and hold
// it until the server closes it (counted as refused, then the worker opens
// another after a pause) or ctx ends; at most max connections in all.
func holdConns(ctx context.Context, n, max int, c *attackCount, open func(ctx context.Context) (net.Conn, error)) {
	var wg sync.WaitGroup
	var left atomic.Int64
	left.Store(int64(max))
	for range n {
		wg.Go(func() {
			for ctx.Err() == nil && left.Add(-1) >= 0 {
				c.tried.Add(1)
				conn, err := open(ctx)
				if err != nil {
					if ctx.Err() == nil {
						c.refused.Add(1)
					}
					sleepCtx(ctx, 200*time.Millisecond)
					continue
				}
				closed := make(chan struct{})
				go func() { // the server closing it ends the read
					_, _ = io.Copy(io.Discard, conn)
					close(closed)
				}()
				select {
				case <-closed:
					c.refused.Add(1)
					conn.Close()
					sleepCtx(ctx, 200*time.Millisecond)
				case <-ctx.Done():
					conn.Close()
					<-closed
				}
			}
		})
	}
	wg.Wait()
}

// idleHTTP opens 300 keep-alives from one address (the per-address cap is
// 256), each after one answered request, and leaves them idle. A
// connection closed by the server without an answer is refused.
func idleHTTP(ctx context.Context, s *server, from string, c *attackCount) {
	holdConns(ctx, 300, 600, c, func(ctx context.Context) (net.Conn, error) {
		conn, err := dialFrom(ctx, from, s.http)
		if err != nil {
			return nil, err
		}
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", s.http)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			conn.Close()
			return nil, err
		}
		resp.Body.Close()
		conn.SetDeadline(time.Time{})
		return conn, nil
	})
}

// rtmptOpen asks for RTMPT sessions from one address, 20 a second, and
// never uses them: past rtmpt_max_sessions_per_ip they get 503.
func rtmptOpen(ctx context.Context, s *server, from string, c *attackCount) {
	hc := fromClient(from)
	defer hc.CloseIdleConnections()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for i := 0; i < 2000; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+s.http+"/open/1", bytes.NewReader([]byte{0}))
		req.Header.Set("Content-Type", "application/x-fcs")
		c.tried.Add(1)
		resp, err := hc.Do(req)
		if err != nil {
			continue
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		if resp.StatusCode != 200 {
			c.refused.Add(1)
		}
	}
}

// loginGuess guesses calla0's password over HTTP with 4 workers; answers
// 429 are the throttle's refusals, a 200 would be a leak.
func loginGuess(ctx context.Context, s *server, from string, c *attackCount) {
	hc := fromClient(from)
	defer hc.CloseIdleConnections()
	var wg sync.WaitGroup
	var seq atomic.Int64
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil && seq.Load() < 20000 {
				body := fmt.Sprintf(`{"user":"calla0","password":"guess-%d"}`, seq.Add(1))
				req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+s.http+"/api/v1/login", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				c.tried.Add(1)
				resp, err := hc.Do(req)
				if err != nil {
					continue
				}
				io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
				resp.Body.Close()
				switch resp.StatusCode {
				case 429:
					c.refused.Add(1)
					sleepCtx(ctx, 20*time.Millisecond)
				case 200:
					c.leaked.Add(1)
				}
			}
		})
	}
	wg.Wait()
}

// fromClient is an HTTP client whose connections come from address from.
func fromClient(from string) *http.Client {
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) { return dialFrom(ctx, from, addr) },
	}}
}

// runAttacks runs the attacks in turns of turn each, in order, round after
// round, until ctx ends.
func runAttacks(ctx context.Context, s *server, turn time.Duration, only string, counts []*attackCount, log func(string)) {
	as := attacks()
	for round := 0; ctx.Err() == nil; round++ {
		for i, a := range as {
			if ctx.Err() != nil {
				return
			}
			if !selected(a.name, only) {
				continue
			}
			tctx, cancel := context.WithTimeout(ctx, turn)
			log(fmt.Sprintf("hostile: %s from %s", a.name, a.from))
			a.run(tctx, s, a.from, counts[i])
			counts[i].turns.Add(1)
			cancel()
		}
	}
}

// selected: only is empty or one of its comma-separated words is in name.
func selected(name, only string) bool {
	if only == "" {
		return true
	}
	for w := range strings.SplitSeq(only, ",") {
		if w != "" && strings.Contains(name, w) {
			return true
		}
	}
	return false
}
