package rtmp

import (
	"encoding/binary"
	"errors"
	"time"
)

// drainTimeout bounds the last flush of queued messages on Close.
const drainTimeout = 2 * time.Second

func (c *Conn) writeLoop() {
	defer c.wg.Done()
	defer c.nc.Close()
	var tick <-chan time.Time
	if c.cfg.PingInterval > 0 {
		t := time.NewTicker(max(c.cfg.PingInterval/4, 10*time.Millisecond))
		defer t.Stop()
		tick = t.C
	}
	batch := make([]Message, 0, 16)
	var deadlineSet time.Time
	for {
		select {
		case <-c.ctx.Done():
			if errors.Is(c.Err(), ErrClosed) {
				c.mu.Lock()
				batch, c.q = c.q, batch[:0]
				c.mu.Unlock()
				c.nc.SetWriteDeadline(time.Now().Add(min(c.cfg.WriteTimeout, drainTimeout)))
				c.writeBatch(batch)
			}
			return
		case <-c.wake:
		case now := <-tick:
			c.maybePing(now)
			continue
		}
		c.mu.Lock()
		batch, c.q = c.q, batch[:0]
		c.dropBurst = false
		c.mu.Unlock()
		// Setting a deadline costs a timer update: refresh it only when a
		// quarter of WriteTimeout has passed, so every write still has at
		// least three quarters of it.
		if now := time.Now(); now.Sub(deadlineSet) > c.cfg.WriteTimeout/4 {
			c.nc.SetWriteDeadline(now.Add(c.cfg.WriteTimeout))
			deadlineSet = now
		}
		if err := c.writeBatch(batch); err != nil {
			c.fail(err)
			return
		}
		clear(batch)
		batch = batch[:0]
	}
}

// writeBatch writes queued messages and flushes (a batch is at most
// 2×WriteQueue messages); the caller has set the write deadline.
func (c *Conn) writeBatch(batch []Message) error {
	if len(batch) == 0 {
		return nil
	}
	for i := range batch {
		m := &batch[i]
		if err := c.cw.WriteMessage(m); err != nil {
			return err
		}
		c.msgsOut.Add(1)
		switch m.Type {
		case TypeSetChunkSize:
			if len(m.Payload) >= 4 {
				if err := c.cw.SetChunkSize(binary.BigEndian.Uint32(m.Payload)); err != nil {
					return err
				}
			}
		case TypeWindowAckSize:
			if len(m.Payload) >= 4 {
				c.sentWindow.Store(binary.BigEndian.Uint32(m.Payload))
			}
		}
	}
	return c.bw.Flush()
}

// maybePing sends a PingRequest when the peer has been silent for
// PingInterval; the read deadline drops it if it stays silent.
func (c *Conn) maybePing(now time.Time) {
	idle := now.Sub(time.Unix(0, c.lastRead.Load()))
	if idle < c.cfg.PingInterval || c.pingOut.Load() {
		return
	}
	c.pingOut.Store(true)
	ts := uint32(now.Sub(c.start).Milliseconds())
	c.enqueue(UserControl{Event: EventPingRequest, Timestamp: ts}.Message())
}
