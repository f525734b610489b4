package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/rtmp"
	"github.com/flashvox/flashvox/rtmp/chunk"
	"github.com/flashvox/flashvox/rtmp/handshake"
	"github.com/flashvox/flashvox/rtmp/message"
)

// leanConn is a player connection driven by the goroutine that owns it: the
// rtmp/handshake and rtmp/chunk's Reader and Writer without rtmp.Client's
// three goroutines, so that thousands of subscribers cost one goroutine
// each and no channel hop per frame. It answers pings and acknowledges as
// the server asks.
type leanConn struct {
	nc     net.Conn
	in     countReader
	cr     *chunk.Reader
	bw     *bufio.Writer
	cw     *chunk.Writer
	window uint32 // server's Window Ack Size
	acked  uint64
	msg    message.Message
}

// countReader counts bytes for acknowledgements; only the owner reads.
type countReader struct {
	r io.Reader
	n uint64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += uint64(n)
	return n, err
}

// dialLean connects to addr, runs the handshake and connect for app.
func dialLean(ctx context.Context, addr, app string) (*leanConn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	nc.SetDeadline(time.Now().Add(15 * time.Second))
	rw, err := handshake.Client(nc, handshake.Options{})
	if err != nil {
		nc.Close()
		return nil, err
	}
	l := &leanConn{nc: nc, in: countReader{r: rw}}
	l.cr = chunk.NewReader(bufio.NewReaderSize(&l.in, 4096), 1<<20, 64)
	l.bw = bufio.NewWriterSize(rw, 512)
	l.cw = chunk.NewWriter(l.bw)
	obj := amf.NewObject(
		"app", app,
		"flashVer", rtmp.DefaultFlashVer,
		"tcUrl", "rtmp://"+addr+"/"+app,
		"fpad", false,
		"capabilities", 15.0,
		"audioCodecs", 3575.0,
		"videoCodecs", 252.0,
		"videoFunction", 1.0,
		"objectEncoding", 0.0,
	)
	if err := l.command(0, &message.Command{Name: "connect", TxID: 1, Object: obj}); err != nil {
		nc.Close()
		return nil, err
	}
	if _, err := l.waitResult(1); err != nil {
		nc.Close()
		return nil, fmt.Errorf("connect: %w", err)
	}
	return l, nil
}

// play creates a stream, plays name on it and waits for NetStream.Play.Start.
func (l *leanConn) play(name string) error {
	if err := l.command(0, &message.Command{Name: "createStream", TxID: 2}); err != nil {
		return err
	}
	res, err := l.waitResult(2)
	if err != nil {
		return fmt.Errorf("createStream: %w", err)
	}
	id, _ := argAt(res.Args, 0).(float64)
	sid := uint32(id)
	if err := l.command(sid, &message.Command{Name: "play", Args: []any{name, -2.0}}); err != nil {
		return err
	}
	buf := message.UserControl{Event: message.EventSetBufferLength, StreamID: sid, BufferLength: 0}.Message()
	if err := l.write(buf); err != nil {
		return err
	}
	for {
		m, err := l.read()
		if err != nil {
			return err
		}
		if m.Type != message.TypeCommandAMF0 {
			continue
		}
		c, err := message.ParseCommand(m)
		if err != nil || c.Name != "onStatus" {
			continue
		}
		info := c.StatusObject()
		if info == nil {
			continue
		}
		switch code := info.GetString("code"); {
		case code == "NetStream.Play.Start":
			return nil
		case info.GetString("level") == "error":
			return fmt.Errorf("play %s: %s", name, code)
		}
	}
}

func argAt(args []any, i int) any {
	if i < len(args) {
		return args[i]
	}
	return nil
}

func (l *leanConn) command(streamID uint32, c *message.Command) error {
	m, err := c.MarshalMessage(streamID)
	if err != nil {
		return err
	}
	return l.write(m)
}

func (l *leanConn) write(m *message.Message) error {
	l.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := l.cw.WriteMessage(m); err != nil {
		return err
	}
	return l.bw.Flush()
}

func (l *leanConn) waitResult(tx float64) (*message.Command, error) {
	for {
		m, err := l.read()
		if err != nil {
			return nil, err
		}
		if m.Type != message.TypeCommandAMF0 {
			continue
		}
		c, err := message.ParseCommand(m)
		if err != nil {
			return nil, err
		}
		if c.TxID != tx || (c.Name != "_result" && c.Name != "_error") {
			continue
		}
		if c.Name == "_error" {
			code := ""
			if o := c.StatusObject(); o != nil {
				code = o.GetString("code")
			}
			return nil, fmt.Errorf("_error %s", code)
		}
		return c, nil
	}
}

// read returns the next message other than protocol control, answering
// pings and acknowledging on the way. The Message is reused by the next call.
func (l *leanConn) read() (*message.Message, error) {
	for {
		if err := l.cr.ReadMessage(&l.msg); err != nil {
			return nil, err
		}
		if l.window > 0 && l.in.n-l.acked >= uint64(l.window) {
			l.acked = l.in.n
			if err := l.write(message.AckMessage(uint32(l.in.n))); err != nil {
				return nil, err
			}
		}
		m := &l.msg
		switch m.Type {
		case message.TypeWindowAckSize:
			if len(m.Payload) >= 4 {
				l.window = binary.BigEndian.Uint32(m.Payload)
			}
			continue
		case message.TypeSetChunkSize, message.TypeAbort, message.TypeAck, message.TypeSetPeerBandwidth:
			continue
		case message.TypeUserControl:
			uc, err := message.ParseUserControl(m.Payload)
			if err == nil && uc.Event == message.EventPingRequest {
				if err := l.write(message.UserControl{Event: message.EventPingResponse, Timestamp: uc.Timestamp}.Message()); err != nil {
					return nil, err
				}
			}
			continue
		}
		return m, nil
	}
}

func (l *leanConn) close() { l.nc.Close() }
