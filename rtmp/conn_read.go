package rtmp

import (
	"errors"
	"fmt"
	"net"
	"time"
)

func (c *Conn) readLoop() {
	defer c.wg.Done()
	var deadlineSet time.Time
	// Refreshing the deadline at most this often keeps the idle timeout
	// within a quarter of ReadTimeout without a timer reset per message.
	refresh := min(time.Second, c.cfg.ReadTimeout/4)
	now := time.Now()
	for {
		if now.Sub(deadlineSet) > refresh {
			c.nc.SetReadDeadline(now.Add(c.cfg.ReadTimeout))
			deadlineSet = now
		}
		m := new(Message)
		if err := c.cr.ReadMessage(m); err != nil {
			c.fail(c.readError(err))
			return
		}
		now = time.Now()
		c.lastRead.Store(now.UnixNano())
		c.msgsIn.Add(1)
		if err := c.handle(m); err != nil {
			c.fail(err)
			return
		}
		if c.peerWindow > 0 {
			if total := c.in.n.Load(); total-c.lastAck >= uint64(c.peerWindow) {
				c.lastAck = total
				if err := c.enqueue(AckMessage(uint32(total))); err != nil {
					c.fail(err)
					return
				}
			}
		}
	}
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

// handle applies control messages and delivers the rest.
func (c *Conn) handle(m *Message) error {
	switch m.Type {
	case TypeSetChunkSize, TypeAbort, TypeAck:
		return nil // the ChunkReader applied the first two
	case TypeWindowAckSize:
		v, err := ParseUint32Control(m.Payload)
		if err != nil {
			return err
		}
		c.peerWindow = v
		return nil
	case TypeSetPeerBandwidth:
		v, err := ParseUint32Control(m.Payload)
		if err != nil {
			return err
		}
		// RTMP 1.0 §5.4.5: answer with a Window Ack Size if it differs
		// from the last one we sent.
		if v != c.sentWindow.Load() {
			return c.enqueue(WindowAckSizeMessage(v))
		}
		return nil
	case TypeUserControl:
		uc, err := ParseUserControl(m.Payload)
		if err != nil {
			return err
		}
		switch uc.Event {
		case EventPingRequest:
			return c.enqueue(UserControl{Event: EventPingResponse, Timestamp: uc.Timestamp}.Message())
		case EventPingResponse:
			c.pingOut.Store(false)
			return nil
		}
		return c.deliver(m)
	case TypeAggregate:
		return SplitAggregate(m, c.deliver)
	}
	return c.deliver(m)
}

func (c *Conn) deliver(m *Message) error {
	select {
	case c.readCh <- m:
		return nil
	case <-c.ctx.Done():
		return c.ctx.Err()
	}
}
