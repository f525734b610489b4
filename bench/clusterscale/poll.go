package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/rtmp"
	"github.com/flashvox/flashvox/rtmp/chunk"
	"github.com/flashvox/flashvox/rtmp/handshake"
	"github.com/flashvox/flashvox/rtmp/message"
)

// pollSub is one lean subscriber (-readers poll). It sets up as a player
// does (handshake, connect, createStream, play) over a net.Conn with
// blocking reads; then its socket leaves Go's netpoller (takeFD: a
// duplicate descriptor is kept, the net.Conn closed) and the poller reads
// it without blocking every -poll. Only the poller goroutine touches it
// after the set-up.
type pollSub struct {
	fd     int
	p      *chunkParser
	cw     *chunk.Writer // encodes into out
	out    []byte        // control messages not sent yet
	w      *window
	rel    bool      // it plays from a node that relays the stream
	on     onMessage // s.handle, bound once (a method value per feed allocates)
	window uint32    // the server's Window Ack Size
	got    uint64    // bytes received since the handshake
	acked  uint64
	live   bool               // set-up done: commands are no longer kept
	cmds   []*message.Command // commands received during the set-up
}

// dialPoll connects a lean subscriber to addr and plays stream.
func dialPoll(ctx context.Context, addr, stream string, w *window, relayed bool) (*pollSub, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer nc.Close() // after takeFD, the duplicate holds the socket
	deadline := time.Now().Add(10 * time.Second)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	nc.SetDeadline(deadline)
	rw, err := handshake.Client(nc, handshake.Options{})
	if err != nil {
		return nil, fmt.Errorf("handshake: %w", err)
	}
	if rw != io.ReadWriter(nc) {
		return nil, errors.New("handshake: the simple handshake wrapped the connection")
	}
	s := &pollSub{fd: -1, p: newChunkParser(), cw: chunk.NewWriter(nil), w: w, rel: relayed}
	s.on = s.handle
	obj := amf.NewObject("app", "live", "flashVer", rtmp.DefaultFlashVer, "tcUrl", "rtmp://"+addr+"/live",
		"fpad", false, "capabilities", 15.0, "audioCodecs", 3575.0, "videoCodecs", 252.0, "videoFunction", 1.0, "objectEncoding", 0.0)
	if _, err := s.call(nc, 0, &message.Command{Name: "connect", TxID: 1, Object: obj}, txIs(1)); err != nil {
		return nil, err
	}
	res, err := s.call(nc, 0, &message.Command{Name: "createStream", TxID: 2}, txIs(2))
	if err != nil {
		return nil, err
	}
	sid, ok := 0.0, len(res.Args) > 0
	if ok {
		sid, ok = res.Args[0].(float64)
	}
	if !ok || sid < 1 || sid > 1<<32-1 {
		return nil, fmt.Errorf("createStream: no stream id in %v", res.Args)
	}
	play := &message.Command{Name: "play", Args: []any{stream, -2.0}}
	st, err := s.call(nc, uint32(sid), play, func(c *message.Command) bool {
		o := c.StatusObject()
		return c.Name == "onStatus" && o != nil && (strings.HasPrefix(o.GetString("code"), "NetStream.Play.Start") || o.GetString("level") == "error")
	})
	if err != nil {
		return nil, err
	}
	if code := st.StatusObject().GetString("code"); code != "NetStream.Play.Start" {
		return nil, fmt.Errorf("play %s: %s", stream, code)
	}
	s.live, s.cmds = true, nil
	if s.fd, err = takeFD(nc); err != nil {
		return nil, err
	}
	return s, nil
}

func txIs(tx float64) func(*message.Command) bool {
	return func(c *message.Command) bool { return (c.Name == "_result" || c.Name == "_error") && c.TxID == tx }
}

// call sends cmd and reads (blocking, within nc's deadline) until a
// command matching want arrives; _error fails.
func (s *pollSub) call(nc net.Conn, streamID uint32, cmd *message.Command, want func(*message.Command) bool) (*message.Command, error) {
	m, err := cmd.MarshalMessage(streamID)
	if err != nil {
		return nil, err
	}
	if s.out, err = s.cw.AppendMessage(s.out, m); err != nil {
		return nil, err
	}
	buf := make([]byte, 4096)
	for {
		if len(s.out) > 0 {
			if _, err := nc.Write(s.out); err != nil {
				return nil, fmt.Errorf("%s: %w", cmd.Name, err)
			}
			s.out = s.out[:0]
		}
		for i, c := range s.cmds {
			if want(c) {
				s.cmds = append(s.cmds[:i], s.cmds[i+1:]...)
				if c.Name == "_error" {
					return nil, fmt.Errorf("%s: _error %v", cmd.Name, c.StatusObject())
				}
				return c, nil
			}
		}
		n, err := nc.Read(buf)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cmd.Name, err)
		}
		if err := s.input(buf[:n]); err != nil {
			return nil, err
		}
	}
}

// input parses received bytes and queues an Acknowledgement once the
// server's window is reached (RTMP 1.0 §5.4.3; flashvox does not insist,
// others do).
func (s *pollSub) input(b []byte) error {
	s.got += uint64(len(b))
	if err := s.p.feed(b, s.on); err != nil {
		return err
	}
	if s.window > 0 && s.got-s.acked >= uint64(s.window) {
		s.acked = s.got
		return s.queue(message.AckMessage(uint32(s.got)))
	}
	return nil
}

func (s *pollSub) queue(m *message.Message) error {
	if len(s.out) > 64<<10 {
		return errors.New("the server reads none of our control messages")
	}
	var err error
	s.out, err = s.cw.AppendMessage(s.out, m)
	return err
}

// handle is the parser's callback: audio frames are counted, pings
// answered (the server's idle timeout needs them), set-up commands kept.
func (s *pollSub) handle(typ uint8, _, streamID uint32, payload []byte) error {
	switch typ {
	case message.TypeAudio:
		s.w.frame(payload, s.rel)
	case message.TypeWindowAckSize:
		v, err := message.ParseUint32Control(payload)
		if err != nil {
			return err
		}
		s.window = v
	case message.TypeUserControl:
		uc, err := message.ParseUserControl(payload)
		if err != nil {
			return err
		}
		if uc.Event == message.EventPingRequest {
			return s.queue(message.UserControl{Event: message.EventPingResponse, Timestamp: uc.Timestamp}.Message())
		}
	case message.TypeCommandAMF0, message.TypeCommandAMF3:
		if s.live {
			return nil
		}
		cmd, err := message.ParseCommand(&message.Message{Type: typ, StreamID: streamID, Payload: payload})
		if err != nil {
			return err
		}
		if len(s.cmds) >= 64 {
			return errors.New("set-up: too many unanswered commands from the server")
		}
		s.cmds = append(s.cmds, cmd)
	}
	return nil
}

// poll drains the socket without blocking and sends what is queued.
func (s *pollSub) poll(buf []byte) error {
	for {
		n, err := recvNB(s.fd, buf)
		if err != nil {
			return err
		}
		if n == 0 {
			break // nothing more now
		}
		if err := s.input(buf[:n]); err != nil {
			return err
		}
		if n < len(buf) {
			break // drained: spare the recv that would say EAGAIN
		}
	}
	if len(s.out) > 0 {
		n, err := sendNB(s.fd, s.out)
		if err != nil {
			return err
		}
		s.out = s.out[:copy(s.out, s.out[n:])]
	}
	return nil
}

// poller reads every lean subscriber every interval from one goroutine:
// no thread waits on their sockets, so a frame the server sends wakes
// nobody and a poll collects every frame that arrived since the last.
type poller struct {
	subs   []*pollSub
	every  time.Duration
	stop   chan struct{}
	wg     sync.WaitGroup
	failed atomic.Int64
	first  atomic.Value // the first subscriber's error
}

func (p *poller) start() {
	p.stop = make(chan struct{})
	p.wg.Go(p.run)
}

func (p *poller) run() {
	buf := make([]byte, 64<<10)
	t := time.NewTicker(p.every)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		for _, s := range p.subs {
			if s.fd < 0 {
				continue
			}
			if err := s.poll(buf); err != nil {
				p.failed.Add(1)
				p.first.CompareAndSwap(nil, err)
				closeFD(s.fd)
				s.fd = -1
			}
		}
	}
}

// close stops the poll goroutine and closes the sockets.
func (p *poller) close() {
	if p.stop != nil {
		close(p.stop)
		p.wg.Wait()
	}
	for _, s := range p.subs {
		if s.fd >= 0 {
			closeFD(s.fd)
			s.fd = -1
		}
	}
	if n := p.failed.Load(); n > 0 {
		fmt.Fprintf(os.Stderr, "clusterscale: %d lean subscribers failed, the first: %v\n", n, p.first.Load())
	}
}
