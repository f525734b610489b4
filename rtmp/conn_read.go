package rtmp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/flashvox/flashvox/rtmp/message"
)

// ReadMessage returns the next message that is not handled inside the Conn:
// everything but Set Chunk Size, Abort, Ack, Window Ack Size, Set Peer
// Bandwidth and ping events. Aggregates arrive split. It fails with the
// reason the Conn stopped. One goroutine at a time may call it.
func (c *Conn) ReadMessage() (*message.Message, error) {
	for {
		if len(c.split) > 0 {
			m := c.split[0]
			c.split[0] = nil
			c.split = c.split[1:]
			return m, nil
		}
		if err := c.ctx.Err(); err != nil {
			return nil, context.Cause(c.ctx)
		}
		// Refreshing the deadline at most this often keeps the idle timeout
		// within a quarter of ReadTimeout without a timer reset per message.
		now := time.Now()
		if now.Sub(c.deadlineSet) > min(time.Second, c.cfg.ReadTimeout/4) {
			c.nc.SetReadDeadline(now.Add(c.cfg.ReadTimeout))
			c.deadlineSet = now
		}
		m := new(message.Message)
		if err := c.cr.ReadMessage(m); err != nil {
			err = c.readError(err)
			c.fail(err)
			return nil, context.Cause(c.ctx)
		}
		c.lastRead.Store(time.Now().UnixNano())
		c.msgsIn.Add(1)
		if c.peerWindow > 0 {
			if total := c.in.n.Load(); total-c.lastAck >= uint64(c.peerWindow) {
				c.lastAck = total
				if err := c.enqueue(message.AckMessage(uint32(total))); err != nil {
					c.fail(err)
					return nil, err
				}
			}
		}
		deliver, err := c.handle(m)
		if err != nil {
			c.fail(err)
			return nil, err
		}
		if deliver {
			return m, nil
		}
	}
}

// Admit raises the peer's buffered-bytes budget from PreConnectBuffer to
// MaxBuffered: the session calls it once connect succeeded. Like
// ReadMessage, only the reading goroutine may call it.
func (c *Conn) Admit() {
	c.cr.SetBudget(c.cfg.MaxBuffered)
	c.admitted.Store(true)
}

func (c *Conn) readError(err error) error {
	if c.ctx.Err() != nil {
		return err // the cause is already set
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("%w: read_timeout %s", ErrIdleTimeout, c.cfg.ReadTimeout)
	}
	return err
}

// handle applies control messages; deliver reports that m is for the caller.
// An aggregate is split into c.split instead.
func (c *Conn) handle(m *message.Message) (deliver bool, err error) {
	switch m.Type {
	case message.TypeSetChunkSize, message.TypeAbort, message.TypeAck:
		return false, nil // the chunk.Reader applied the first two
	case message.TypeWindowAckSize:
		v, err := message.ParseUint32Control(m.Payload)
		if err != nil {
			return false, err
		}
		c.peerWindow = v
		return false, nil
	case message.TypeSetPeerBandwidth:
		v, err := message.ParseUint32Control(m.Payload)
		if err != nil {
			return false, err
		}
		// RTMP 1.0 §5.4.5: answer with a Window Ack Size if it differs
		// from the last one we sent.
		if v != c.sentWindow.Load() {
			return false, c.enqueue(message.WindowAckSizeMessage(v))
		}
		return false, nil
	case message.TypeUserControl:
		uc, err := message.ParseUserControl(m.Payload)
		if err != nil {
			return false, err
		}
		switch uc.Event {
		case message.EventPingRequest:
			return false, c.enqueue(message.UserControl{Event: message.EventPingResponse, Timestamp: uc.Timestamp}.Message())
		case message.EventPingResponse:
			c.pingOut.Store(false)
			return false, nil
		}
		return true, nil
	case message.TypeAggregate:
		return false, message.SplitAggregate(m, func(sub *message.Message) error {
			c.split = append(c.split, sub)
			return nil
		})
	}
	return true, nil
}
