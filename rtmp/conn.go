package rtmp

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flashvox/flashvox/rtmp/chunk"
	"github.com/flashvox/flashvox/rtmp/message"
)

// Conn is an RTMP connection after the handshake. Reading happens on the
// caller's goroutine: ReadMessage owns the chunk.Reader, answers pings, sends
// acknowledgements, applies the peer's control messages and splits
// aggregates, so no goroutine or channel hop sits between the socket and the
// session. The Conn owns one goroutine, the writer, which drains the write
// queue and pings an idle peer.
//
// Writing: wmu guards the chunk.Writer, the output buffer and the socket.
// When the queue is empty and nobody holds wmu, WriteMessage encodes the
// message and writes it straight to a plain TCP socket without blocking
// (see direct.go), as nginx-rtmp does from its event loop: no goroutine
// wake-up per frame. Whatever the socket does not take at once is left in
// the buffer for the writer goroutine. The write queue is guarded by mu;
// the counters are atomic.
type Conn struct {
	// The direct write path (WriteMessage → enqueue → writeDirect) runs
	// once per frame per subscriber on the publisher's goroutine, with this
	// connection's memory cold in the CPU cache: its fields come first and
	// its writer state lives inside the Conn, not behind more pointers.
	stopped atomic.Bool // set when the Conn stops; checked per message
	mu      sync.Mutex
	q       []message.Message
	raw     *fdWriter  // &rawW for plain TCP sockets, else nil
	wmu     sync.Mutex // guards cw, obuf and writes to the socket
	obuf    outBuffer  // encoded bytes not yet written
	msgsOut atomic.Uint64
	out     countingWriter
	rawW    fdWriter
	cw      chunk.Writer // encodes into obuf

	dropBurst bool
	wake      chan struct{}

	nc     net.Conn
	cfg    ConnConfig
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelCauseFunc
	start  time.Time
	wg     sync.WaitGroup

	in *countingReader
	cr *chunk.Reader // ReadMessage's goroutine

	admitted atomic.Bool // Admit was called: the peer connected

	// ReadMessage's goroutine.
	split       []*message.Message // messages of an aggregate not returned yet
	deadlineSet time.Time

	blockingWrites atomic.Uint64 // socket writes the writer goroutine started

	lastOut   uint64    // writer goroutine: msgsOut at the last ping check
	lastOutAt time.Time // writer goroutine: when msgsOut last changed

	peerWindow uint32 // ReadMessage's goroutine: the peer's Window Ack Size
	lastAck    uint64 // ReadMessage's goroutine: bytes acknowledged so far

	sentWindow atomic.Uint32 // last Window Ack Size we sent
	lastRead   atomic.Int64  // unix nanoseconds of the last message read
	pingOut    atomic.Bool
	msgsIn     atomic.Uint64
	dropped    atomic.Uint64
}

// NewConn starts a Conn on nc after a completed handshake. rw is the stream
// the handshake returned (nil means nc). cfg zero fields take defaults. The
// Conn stops when ctx is cancelled, when Close is called or on any error.
func NewConn(ctx context.Context, nc net.Conn, rw io.ReadWriter, cfg ConnConfig, log *slog.Logger) *Conn {
	if rw == nil {
		rw = nc
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.WithDefaults()
	c := &Conn{
		nc:    nc,
		cfg:   cfg,
		log:   log,
		start: time.Now(),
		in:    &countingReader{r: rw},
		out:   countingWriter{w: rw},
		wake:  make(chan struct{}, 1),
	}
	c.ctx, c.cancel = context.WithCancelCause(ctx)
	// Close and fail set stopped themselves, before cancelling; this
	// covers the parent context.
	context.AfterFunc(c.ctx, func() { c.stopped.Store(true) })
	c.cr = chunk.NewReader(bufio.NewReaderSize(c.in, 4096), cfg.MaxMessageSize, cfg.MaxChunkStreams)
	c.cr.SetBudget(cfg.PreConnectBuffer)
	c.cw.Reset(&c.obuf)
	if rw == io.ReadWriter(nc) && c.rawW.init(nc) {
		c.raw = &c.rawW
		if r := newFDReader(nc); r != nil {
			c.in.r = r
		}
	}
	c.lastRead.Store(c.start.UnixNano())
	c.lastOutAt = c.start
	if cfg.ChunkSize != chunk.DefaultSize {
		c.enqueue(message.SetChunkSizeMessage(uint32(cfg.ChunkSize)))
	}
	c.wg.Add(1)
	go c.writeLoop()
	return c
}

// WriteMessage queues m for the writer goroutine and never blocks. The
// Message struct is copied; m.Payload is not and must stay unmodified. When
// the queue (ConnConfig.WriteQueue) is full, the oldest queued audio/video
// message is dropped to make room (counted by Dropped, warned once per
// burst); if the queue holds no media, media and commands get ErrQueueFull.
// Control messages may use twice the queue before the Conn is closed.
func (c *Conn) WriteMessage(m *message.Message) error {
	// ctx.Err takes a mutex and Done's channel is one more cache miss;
	// this runs once per frame per subscriber.
	if c.stopped.Load() {
		return ErrClosed
	}
	return c.enqueue(m)
}

func (c *Conn) enqueue(m *message.Message) error {
	c.mu.Lock()
	if len(c.q) == 0 && c.raw != nil && c.wmu.TryLock() {
		// Only when nothing is pending: bytes a full socket did not take
		// belong to the writer goroutine, and a slow peer's messages must
		// go to the bounded queue (drop-oldest), never pile up in obuf.
		if len(c.obuf.b) == 0 {
			c.mu.Unlock() // later messages queue behind this one: order holds
			return c.writeDirect(m)
		}
		c.wmu.Unlock()
	}
	if len(c.q) >= c.cfg.WriteQueue && !(m.IsControl() && len(c.q) < 2*c.cfg.WriteQueue) {
		i := firstMedia(c.q)
		if i < 0 {
			c.mu.Unlock()
			if m.IsControl() {
				err := fmt.Errorf("%w: write_queue %d", ErrQueueFull, c.cfg.WriteQueue)
				c.fail(err)
				return err
			}
			return ErrQueueFull
		}
		if i == 0 {
			// The usual case. Re-slicing past the head is O(1); append
			// reallocates once in a while instead of this moving the whole
			// queue (12 KiB at the default size) for every frame a stalled
			// subscriber loses.
			c.q[0] = message.Message{}
			c.q = c.q[1:]
		} else {
			copy(c.q[i:], c.q[i+1:])
			c.q = c.q[:len(c.q)-1]
		}
		c.dropped.Add(1)
		if !c.dropBurst {
			c.dropBurst = true
			c.log.Warn("write queue full, dropping oldest media", "write_queue", c.cfg.WriteQueue)
		}
	}
	c.q = append(c.q, *m)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return nil
}

func firstMedia(q []message.Message) int {
	for i := range q {
		if q[i].IsMedia() {
			return i
		}
	}
	return -1
}

// Close stops the Conn: queued messages get one last short chance to be
// written, then the socket is closed (which also ends a blocked
// ReadMessage). It waits for the writer goroutine.
func (c *Conn) Close() error {
	c.stopped.Store(true)
	c.cancel(ErrClosed)
	c.wg.Wait()
	return nil
}

// Done is closed when the Conn stops.
func (c *Conn) Done() <-chan struct{} { return c.ctx.Done() }

// Err returns why the Conn stopped (ErrClosed after Close), or nil.
func (c *Conn) Err() error { return context.Cause(c.ctx) }

// Context is cancelled when the Conn stops.
func (c *Conn) Context() context.Context { return c.ctx }

// RemoteAddr is the peer's address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// LocalAddr is our address.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// Logger is the Conn's scoped logger.
func (c *Conn) Logger() *slog.Logger { return c.log }

// BytesIn counts bytes received after the handshake.
func (c *Conn) BytesIn() uint64 { return c.in.n.Load() }

// BytesOut counts bytes sent after the handshake.
func (c *Conn) BytesOut() uint64 { return c.out.n.Load() }

// MessagesIn counts messages received (aggregates count once).
func (c *Conn) MessagesIn() uint64 { return c.msgsIn.Load() }

// MessagesOut counts messages written to the socket.
func (c *Conn) MessagesOut() uint64 { return c.msgsOut.Load() }

// Dropped counts media messages dropped because the write queue was full.
func (c *Conn) Dropped() uint64 { return c.dropped.Load() }

// fail stops the Conn for err and closes the socket at once to unblock the
// reader and the writer. (Close instead lets the writer drain first; the writer closes
// the socket when it returns, which also covers a cancelled parent ctx.)
func (c *Conn) fail(err error) {
	c.stopped.Store(true)
	c.cancel(err)
	c.closeSocket()
}
