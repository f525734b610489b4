package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/flashvox/flashvox/rtmp"
)

// halfSentRTMP: 20 connections from one address complete the simple
// handshake, then begin a 1 MB audio message on each of 60 chunk streams
// and send only the first 128-byte chunk of each, never a connect. The
// server should close each one once its declared, unfinished bytes pass
// rtmp.preconnect_buffer.
func halfSentRTMP(ctx context.Context, s *server, from string, c *attackCount) {
	holdConns(ctx, 20, 400, c, func(ctx context.Context) (net.Conn, error) {
		conn, err := dialFrom(ctx, from, s.rtmp)
		if err != nil {
			return nil, err
		}
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		if err := handshake(conn); err != nil {
			conn.Close()
			return nil, err
		}
		body := make([]byte, 128)
		for csid := byte(3); csid < 63; csid++ {
			const size = 1_000_000
			hdr := []byte{csid, 0, 0, 0, size >> 16 & 0xff, size >> 8 & 0xff, size & 0xff, 8, 1, 0, 0, 0}
			if _, err := conn.Write(append(hdr, body...)); err != nil {
				break // closed mid-way: the budget held; the read sees it
			}
		}
		conn.SetDeadline(time.Time{})
		return conn, nil
	})
}

// handshake is RTMP's simple handshake as a client.
func handshake(conn net.Conn) error {
	c1 := make([]byte, 1+1536)
	c1[0] = 3
	rand.Read(c1[9:])
	if _, err := conn.Write(c1); err != nil {
		return err
	}
	s := make([]byte, 1+1536+1536)
	if _, err := io.ReadFull(conn, s); err != nil {
		return err
	}
	_, err := conn.Write(s[1 : 1+1536]) // C2 echoes S1
	return err
}

// sipHalfSent: 100 TCP connections from one address to the SIP port each
// send the start of an INVITE and nothing more. The server should close
// them after its read timeout.
func sipHalfSent(ctx context.Context, s *server, from string, c *attackCount) {
	holdConns(ctx, 100, 1000, c, func(ctx context.Context) (net.Conn, error) {
		conn, err := dialFrom(ctx, from, s.sip)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(conn, "INVITE sip:15550000@%s SIP/2.0\r\nVia: SIP/2.0/TCP %s:5060;branch=z9hG4bK", s.sip, from)
		return conn, nil
	})
}

// anonCodec: players without a token ask for a transcoded relay stream
// (?codec=pcmu), 5 a second. Refused is the right answer (transcode:
// token); a play that starts is a leak.
func anonCodec(ctx context.Context, s *server, _ string, c *attackCount) {
	rtmpLoop(ctx, 200*time.Millisecond, 1000, c, func(ctx context.Context) (bool, error) {
		cl, err := rtmp.Dial(ctx, "rtmp://"+s.rtmp+"/live", rtmp.ClientOptions{})
		if err != nil {
			return false, err
		}
		defer cl.Close()
		sid, err := cl.CreateStream(ctx)
		if err != nil {
			return false, err
		}
		err = cl.Play(ctx, sid, "ff0?codec=pcmu")
		var se *rtmp.StatusError
		if errors.As(err, &se) {
			return true, nil
		}
		return false, err
	})
}

// unknownApps: connects to applications that are not in apps:, 10 a second.
func unknownApps(ctx context.Context, s *server, _ string, c *attackCount) {
	names := []string{"admin", "live2", "oflaDemo", "vod", "sip2", "phone/../live"}
	n := 0
	rtmpLoop(ctx, 100*time.Millisecond, 2000, c, func(ctx context.Context) (bool, error) {
		n++
		cl, err := rtmp.Dial(ctx, "rtmp://"+s.rtmp+"/"+names[n%len(names)], rtmp.ClientOptions{})
		if err != nil {
			var ce *rtmp.CallError
			if errors.As(err, &ce) {
				return true, nil
			}
			return false, err
		}
		cl.Close()
		return false, nil
	})
}

// rtmpLoop runs one try per tick, at most max, until ctx ends: try says
// whether the server refused; a try that neither errs nor is refused is a
// leak; an error other than a refusal counts as tried only.
func rtmpLoop(ctx context.Context, every time.Duration, max int, c *attackCount, try func(context.Context) (refused bool, err error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for i := 0; i < max; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		c.tried.Add(1)
		refused, err := try(tctx)
		cancel()
		switch {
		case refused:
			c.refused.Add(1)
		case err == nil:
			c.leaked.Add(1)
		}
	}
}
