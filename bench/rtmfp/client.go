package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/rtmfp"
	"github.com/flashvox/flashvox/rtmfp/wire"
	"github.com/flashvox/flashvox/rtmp/message"
)

// client is one RTMFP session of ours (package rtmfp's initiator) with a
// NetConnection open; its reader goroutine counts audio messages and hands
// commands to cmds. It ends when the session does.
type client struct {
	c     *rtmfp.Conn
	cmds  chan *message.Command
	audio atomic.Int64
}

// dialClient opens a session to uri and connects the NetConnection.
func dialClient(ctx context.Context, uri string) (*client, error) {
	c, err := rtmfp.Dial(ctx, uri, rtmfp.DialOptions{})
	if err != nil {
		return nil, err
	}
	cl := &client{c: c, cmds: make(chan *message.Command, 8)}
	go cl.read()
	if err := cl.send(0, &message.Command{Name: "connect", TxID: 1,
		Object: amf.NewObject("app", "live", "tcUrl", uri, "objectEncoding", 0.0)}); err != nil {
		c.Close()
		return nil, err
	}
	res, err := cl.wait(ctx, "_result", "_error")
	if err == nil && res.Name != "_result" {
		err = fmt.Errorf("connect refused: %v", res.StatusObject())
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("connect: %w", err)
	}
	return cl, nil
}

// play creates a stream and plays name on it.
func (cl *client) play(ctx context.Context, name string) error {
	if err := cl.send(0, &message.Command{Name: "createStream", TxID: 2}); err != nil {
		return err
	}
	res, err := cl.wait(ctx, "_result")
	if err != nil {
		return fmt.Errorf("createStream: %w", err)
	}
	var id float64
	if len(res.Args) > 0 {
		id, _ = res.Args[0].(float64)
	}
	if id == 0 {
		return errors.New("createStream: no stream ID")
	}
	return cl.send(uint32(id), &message.Command{Name: "play", Args: []any{name}})
}

func (cl *client) send(streamID uint32, cmd *message.Command) error {
	m, err := cmd.MarshalMessage(streamID)
	if err != nil {
		return err
	}
	return cl.c.WriteMessage(m)
}

func (cl *client) read() {
	defer close(cl.cmds)
	for {
		m, err := cl.c.ReadMessage()
		if err != nil {
			return
		}
		switch m.Type {
		case message.TypeAudio:
			cl.audio.Add(1)
		case message.TypeCommandAMF0:
			if cmd, err := message.ParseCommand(m); err == nil {
				select {
				case cl.cmds <- cmd:
				default: // nobody waits for it (onStatus of play, …)
				}
			}
		}
	}
}

// wait returns the next command named one of names.
func (cl *client) wait(ctx context.Context, names ...string) (*message.Command, error) {
	for {
		select {
		case cmd, ok := <-cl.cmds:
			if !ok {
				return nil, errors.New("session closed")
			}
			for _, n := range names {
				if cmd.Name == n {
					return cmd, nil
				}
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// dialMany opens n connected clients, workers at a time.
func dialMany(ctx context.Context, uri string, n, workers int) ([]*client, error) {
	out := make([]*client, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				cl, err := dialClient(dctx, uri)
				cancel()
				if err != nil {
					mu.Lock()
					if first == nil {
						first = fmt.Errorf("session %d: %w", i, err)
					}
					mu.Unlock()
					return
				}
				out[i] = cl
			}
		}()
	}
	wg.Wait()
	if first != nil {
		closeAll(out)
		return nil, first
	}
	return out, nil
}

func closeAll(cls []*client) {
	var wg sync.WaitGroup
	for _, cl := range cls {
		if cl == nil {
			continue
		}
		wg.Add(1)
		go func() { // Close waits up to a second for the close ack
			defer wg.Done()
			cl.c.Close()
		}()
	}
	wg.Wait()
}

// handshakes dials and closes sessions (handshake only, no connect) from
// workers goroutines for d and returns how many succeeded and failed, and
// how long each successful Dial took. With perDial every dial has a new
// identity (certificate), as distinct players would; otherwise all share
// one. The difference shows when the kernel hands a new dial the UDP port
// of a session the server still holds: flashvox drops the keying of a
// different certificate at that address (the initiator retries after 1 s,
// backing off), while the same certificate is "the same peer started over".
func handshakes(ctx context.Context, uri string, workers int, d time.Duration, perDial bool) (ok, failed int64, lat []time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var nOK, nFail atomic.Int64
	var wg, closers sync.WaitGroup
	var mu sync.Mutex // guards lat
	defer closers.Wait()
	shared := wire.NewRandomIdentity(false)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				id := shared
				if perDial {
					id = wire.NewRandomIdentity(false)
				}
				t0 := time.Now()
				c, err := rtmfp.Dial(ctx, uri, rtmfp.DialOptions{Identity: id})
				if err == nil {
					mu.Lock()
					lat = append(lat, time.Since(t0))
					mu.Unlock()
				}
				if err != nil {
					if ctx.Err() == nil {
						nFail.Add(1)
					}
					continue
				}
				nOK.Add(1)
				closers.Add(1)
				go func() { // the close ack is not part of the handshake
					defer closers.Done()
					c.Close()
				}()
			}
		}()
	}
	wg.Wait()
	return nOK.Load(), nFail.Load(), lat
}
