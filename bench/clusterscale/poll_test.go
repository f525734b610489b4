package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/rtmp/chunk"
	"github.com/flashvox/flashvox/rtmp/handshake"
	"github.com/flashvox/flashvox/rtmp/message"
)

// fakeServer plays the server's side of a player's set-up, then hands the
// connection to then.
type fakeServer struct {
	t      *testing.T
	conn   net.Conn
	cr     *chunk.Reader
	cw     *chunk.Writer
	gotAck atomic.Uint32 // the last Acknowledgement's byte count
	pong   atomic.Uint32 // the last PingResponse's timestamp
}

func (f *fakeServer) send(m *message.Message) error {
	if err := f.cw.WriteMessage(m); err != nil {
		return err
	}
	if m.Type == message.TypeSetChunkSize {
		return f.cw.SetChunkSize(binary.BigEndian.Uint32(m.Payload))
	}
	return nil
}

func (f *fakeServer) command(sid uint32, c *message.Command) error {
	m, err := c.MarshalMessage(sid)
	if err != nil {
		return err
	}
	return f.send(m)
}

// setUp answers connect, createStream and play; the server announces a
// small chunk size and a 200-byte acknowledgement window on the way.
func (f *fakeServer) setUp() error {
	rw, _, err := handshake.Server(f.conn)
	if err != nil {
		return err
	}
	f.cr = chunk.NewReader(rw, 1<<20, 64)
	f.cw = chunk.NewWriter(rw)
	for _, want := range []string{"connect", "createStream", "play"} {
		var m message.Message
		if err := f.cr.ReadMessage(&m); err != nil {
			return err
		}
		c, err := message.ParseCommand(&m)
		if err != nil {
			return err
		}
		if c.Name != want {
			return errors.New("got " + c.Name + ", want " + want)
		}
		switch want {
		case "connect":
			err = errors.Join(f.send(message.WindowAckSizeMessage(200)), f.send(message.SetChunkSizeMessage(60)),
				f.command(0, &message.Command{Name: "_result", TxID: c.TxID, Args: []any{amf.NewObject("code", "NetConnection.Connect.Success")}}))
		case "createStream":
			err = f.command(0, &message.Command{Name: "_result", TxID: c.TxID, Args: []any{1.0}})
		case "play":
			err = f.command(1, &message.Command{Name: "onStatus", Args: []any{amf.NewObject("level", "status", "code", "NetStream.Play.Start")}})
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// readControl records the Acknowledgements and PingResponses the player sends.
func (f *fakeServer) readControl() {
	for {
		var m message.Message
		if err := f.cr.ReadMessage(&m); err != nil {
			return
		}
		switch m.Type {
		case message.TypeAck:
			v, _ := message.ParseUint32Control(m.Payload)
			f.gotAck.Store(v)
		case message.TypeUserControl:
			if uc, err := message.ParseUserControl(m.Payload); err == nil && uc.Event == message.EventPingResponse {
				f.pong.Store(uc.Timestamp)
			}
		}
	}
}

// TestPollSubscriber sets a lean subscriber up against a fake server, then
// checks that polling counts the frames and answers what a player must.
func TestPollSubscriber(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f := &fakeServer{t: t}
	setUp := make(chan error, 1)
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		c, err := ln.Accept()
		if err != nil {
			setUp <- err
			return
		}
		f.conn = c
		setUp <- f.setUp()
		f.readControl()
	})
	w := &window{r: &result{}, base: time.Now(), late: time.Minute}
	w.to.Store(1 << 62)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := dialPoll(ctx, ln.Addr().String(), "s0", w, false)
	if err := errors.Join(err, <-setUp); err != nil {
		if f.conn != nil {
			f.conn.Close()
		}
		t.Fatal(err)
	}
	p := &poller{subs: []*pollSub{s}}
	defer p.close()
	defer f.conn.Close()
	if s.window != 200 || s.p.chunkSize != 60 {
		t.Fatalf("window %d chunk size %d after the set-up, want 200 and 60", s.window, s.p.chunkSize)
	}

	// 10 frames of 65 bytes (two chunks each at 60) pass the window; a ping.
	for i := range 10 {
		b := make([]byte, frameSize)
		binary.BigEndian.PutUint64(b[1:], uint64(time.Since(w.base)))
		binary.BigEndian.PutUint32(b[9:], uint32(i))
		if err := f.send(&message.Message{Type: message.TypeAudio, Timestamp: uint32(16 * i), StreamID: 1, Payload: b}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.send(message.UserControl{Event: message.EventPingRequest, Timestamp: 4321}.Message()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100) // small: a poll reads in several pieces
	testwait.ForDetail(t, 5*time.Second, "frames counted, ping and window answered", func() bool {
		if err := s.poll(buf); err != nil {
			t.Fatal(err)
		}
		return w.delivered.Load() == 10 && f.pong.Load() == 4321 && f.gotAck.Load() >= 200
	}, func() string {
		return fmt.Sprintf("delivered %d, pong %d, ack %d", w.delivered.Load(), f.pong.Load(), f.gotAck.Load())
	})

	// A server that breaks the chunk stream ends the subscriber.
	if err := f.cw.WriteMessage(&message.Message{Type: message.TypeSetChunkSize, Payload: []byte{0, 0, 0, 0}}); err != nil {
		t.Fatal(err)
	}
	var perr error
	testwait.For(t, 5*time.Second, "a bad chunk size refused", func() bool {
		perr = s.poll(buf)
		return perr != nil
	})
	if !errors.Is(perr, errParse) {
		t.Fatalf("poll: %v, want %v", perr, errParse)
	}
}
