package rtmp

import (
	"errors"
	"time"

	"github.com/flashvox/flashvox/rtmp/message"
)

// drainTimeout bounds the last flush of queued messages on Close.
const drainTimeout = 2 * time.Second

func (c *Conn) writeLoop() {
	defer c.wg.Done()
	defer c.closeSocket()
	var tick <-chan time.Time
	if c.cfg.PingInterval > 0 {
		t := time.NewTicker(max(c.cfg.PingInterval/4, 10*time.Millisecond))
		defer t.Stop()
		tick = t.C
	}
	batch := make([]message.Message, 0, 16)
	var deadlineSet time.Time
	for {
		select {
		case <-c.ctx.Done():
			if errors.Is(c.Err(), ErrClosed) {
				c.nc.SetWriteDeadline(time.Now().Add(min(c.cfg.WriteTimeout, drainTimeout)))
				c.writeQueued(batch)
			}
			return
		case <-c.wake:
		case now := <-tick:
			c.maybePing(now)
			continue
		}
		// Setting a deadline costs a timer update: refresh it only when a
		// quarter of WriteTimeout has passed, so every write still has at
		// least three quarters of it. Direct writes (fdWriter) call sendto
		// themselves and never see this deadline.
		if now := time.Now(); now.Sub(deadlineSet) > c.cfg.WriteTimeout/4 {
			c.nc.SetWriteDeadline(now.Add(c.cfg.WriteTimeout))
			deadlineSet = now
		}
		var err error
		batch, err = c.writeQueued(batch)
		if err != nil {
			c.fail(err)
			return
		}
	}
}

// writeQueued takes the queue and writes it after whatever a direct write
// left behind, blocking up to the deadline the caller set (the queue holds
// at most 2×WriteQueue messages). It holds wmu from before it takes the
// queue, so a direct write can never overtake queued messages. batch is
// scratch space, returned emptied for reuse.
func (c *Conn) writeQueued(batch []message.Message) ([]message.Message, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	batch, c.q = c.q, batch[:0]
	c.dropBurst = false
	c.mu.Unlock()
	defer func() { clear(batch) }()
	for i := range batch {
		if err := c.encode(&batch[i]); err != nil {
			return batch[:0], err
		}
	}
	if c.raw != nil && len(c.obuf.b) > 0 {
		// Usually the socket has room again by the time this runs: a raw
		// write then costs no trip through the runtime's syscall and
		// poller bookkeeping (a subscriber that fell behind runs this once
		// per frame until it catches up).
		n, err := c.raw.tryWrite(c.obuf.b)
		c.out.n.Add(uint64(n))
		c.obuf.consume(n)
		if err != nil {
			return batch[:0], err
		}
	}
	if len(c.obuf.b) == 0 {
		return batch[:0], nil
	}
	c.blockingWrites.Add(1)
	n, err := c.out.Write(c.obuf.b)
	c.obuf.consume(n)
	return batch[:0], err
}

// maybePing sends a PingRequest when the peer has been silent for
// PingInterval (the read deadline drops it if it stays silent), and also
// when we have sent it nothing for that long: a peer that only publishes
// would otherwise hear nothing from us and its own idle timeout would end a
// healthy connection. Called from the writer goroutine only.
func (c *Conn) maybePing(now time.Time) {
	if out := c.msgsOut.Load(); out != c.lastOut {
		c.lastOut, c.lastOutAt = out, now
	}
	readIdle := now.Sub(time.Unix(0, c.lastRead.Load()))
	writeIdle := now.Sub(c.lastOutAt)
	if (readIdle < c.cfg.PingInterval && writeIdle < c.cfg.PingInterval) || c.pingOut.Load() {
		return
	}
	c.pingOut.Store(true)
	ts := uint32(now.Sub(c.start).Milliseconds())
	c.enqueue(message.UserControl{Event: message.EventPingRequest, Timestamp: ts}.Message())
}
