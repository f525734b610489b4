package rtmfp

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flashvox/flashvox/rtmfp/wire"
	"github.com/flashvox/flashvox/rtmp/message"
)

// TC flow metadata (RFC 7425 §5.1.1): 'T' 'C', flags, stream ID.
const (
	tcFlagStreamID = 0x04
	tcRxNetwork    = 0x01
	tcHeaderSize   = 5 // message type and 32-bit timestamp

	userControlFlowSync     = 34
	userControlSetKeepalive = 41
	inQueue                 = 256
)

// errQueueFull ends a session whose peer does not take its commands.
var errQueueFull = errors.New("rtmfp: send queue full")

// parseTCMetadata returns the stream ID of TC flow metadata.
func parseTCMetadata(b []byte) (uint32, bool) {
	if len(b) < 4 || b[0] != 'T' || b[1] != 'C' || b[2]&tcFlagStreamID == 0 {
		return 0, false
	}
	v, _, err := wire.ParseVLU(b[3:])
	if err != nil || v > 0xffffffff {
		return 0, false
	}
	return uint32(v), true
}

// tcMetadata is the metadata of a flow of stream id, delivered in order.
func tcMetadata(id uint32) []byte {
	return wire.AppendVLU([]byte{'T', 'C', tcFlagStreamID}, uint64(id))
}

// tcStream is the send flows of one NetStream: audio on its own flow with
// a lifetime, everything else on another.
type tcStream struct {
	audio, other *sendFlow
}

// Conn is one RTMFP session seen as RTMP messages (the TC layer, RFC 7425
// §5). It implements session.Transport: ReadMessage is called by one
// goroutine; WriteMessage by any, never blocking.
type Conn struct {
	s    *session
	in   chan *message.Message
	done chan struct{}
	once sync.Once
	err  error

	// Guarded by s.mu.
	initiator bool // we dialed: our control flow comes first, the peer's answers it
	ctrlRecv  *recvFlow
	control   *sendFlow
	streams   map[uint32]*tcStream
	peerInfo  []string

	dropped  atomic.Uint64
	warnedIn atomic.Bool
}

func newConn(s *session) *Conn {
	return &Conn{s: s, in: make(chan *message.Message, inQueue), done: make(chan struct{}), streams: map[uint32]*tcStream{}}
}

// ReadMessage returns the next message the peer sent, or the error that
// ended the session once every received message has been read.
func (c *Conn) ReadMessage() (*message.Message, error) {
	select {
	case m := <-c.in:
		return m, nil
	default:
	}
	select {
	case m := <-c.in:
		return m, nil
	case <-c.done:
		select {
		case m := <-c.in:
			return m, nil
		default:
		}
		if errors.Is(c.err, ErrClosed) {
			return nil, io.EOF
		}
		return nil, c.err
	}
}

// WriteMessage queues m on the flow of its stream and type and sends what
// the congestion window allows. RTMP's chunk-layer control messages have
// no meaning here and are dropped.
func (c *Conn) WriteMessage(m *message.Message) error {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateOpen {
		return ErrClosed
	}
	switch m.Type {
	case message.TypeSetChunkSize, message.TypeAbort, message.TypeAck, message.TypeWindowAckSize, message.TypeSetPeerBandwidth, message.TypeAggregate:
		return nil
	case message.TypeUserControl:
		if len(m.Payload) >= 2 {
			if ev := binary.BigEndian.Uint16(m.Payload); ev == 6 || ev == 7 {
				return nil // RTMP ping: RTMFP has its own
			}
		}
	}
	f, err := c.flowFor(m.StreamID, m.Type)
	if err != nil {
		return err
	}
	if s.queued() > s.lim.maxQueued {
		if m.IsMedia() {
			c.dropped.Add(1)
			return nil
		}
		return errQueueFull
	}
	b := make([]byte, tcHeaderSize+len(m.Payload))
	b[0] = m.Type
	binary.BigEndian.PutUint32(b[1:], m.Timestamp)
	copy(b[tcHeaderSize:], m.Payload)
	now := time.Now()
	f.write(b, now)
	if s.fl != nil && m.IsMedia() {
		s.fl.add(s) // with the rest of the publisher's burst (flusher.go)
		return nil
	}
	s.transmit(now)
	return nil
}

// flowFor returns (opening when needed) the send flow for a message. Every
// flow we open is associated with the peer's control flow, as RFC 7425
// §5.1.3 asks and as rtmfp-cpp's TCConnection expects.
func (c *Conn) flowFor(id uint32, typ uint8) (*sendFlow, error) {
	s := c.s
	if id == 0 && c.initiator {
		return c.control, nil
	}
	if c.ctrlRecv == nil {
		return nil, errNoControlFlow
	}
	if id == 0 {
		if c.control == nil {
			c.control = s.openSendFlow(tcMetadata(0), c.ctrlRecv.id, true, 1, 0)
		}
		return c.control, nil
	}
	st := c.streams[id]
	if st == nil {
		if len(c.streams) >= s.lim.maxFlows {
			return nil, errTooManyStreams
		}
		st = &tcStream{}
		c.streams[id] = st
	}
	if typ == message.TypeAudio {
		if st.audio == nil {
			st.audio = s.openSendFlow(tcMetadata(id), c.ctrlRecv.id, true, 0, s.lim.audioLifetime)
		}
		return st.audio, nil
	}
	if st.other == nil {
		st.other = s.openSendFlow(tcMetadata(id), c.ctrlRecv.id, true, 1, 0)
	}
	return st.other, nil
}

// deliver takes one complete message of flow f (called with s.mu held).
func (c *Conn) deliver(f *recvFlow, msg []byte) {
	if c.ctrlRecv == nil && f.streamID == 0 {
		switch {
		case !c.initiator && !f.hasReturn:
			c.ctrlRecv = f // the initiator's control flow
		case c.initiator && f.hasReturn && c.control != nil && f.returnFlow == c.control.id:
			c.ctrlRecv = f // the responder's answer to ours
		}
	}
	if len(msg) < tcHeaderSize {
		return // an empty message (flow sync placeholder) or garbage
	}
	typ := msg[0]
	if typ == message.TypeUserControl && len(msg) >= tcHeaderSize+2 &&
		binary.BigEndian.Uint16(msg[tcHeaderSize:]) == userControlFlowSync {
		return // we deliver every flow in order already
	}
	m := &message.Message{Type: typ, Timestamp: binary.BigEndian.Uint32(msg[1:]), StreamID: f.streamID, Payload: msg[tcHeaderSize:]}
	select {
	case c.in <- m:
	default:
		c.dropped.Add(1)
		if c.warnedIn.CompareAndSwap(false, true) {
			c.s.log.Warn("receive queue full: dropping messages", "type", typ)
		}
	}
}

// flowRejected forgets a send flow the peer refused (a deleted stream).
func (c *Conn) flowRejected(f *sendFlow) {
	if f == c.control {
		c.fail(errors.New("rtmfp: peer rejected the control flow"))
		return
	}
	for id, st := range c.streams {
		if st.audio == f {
			st.audio = nil
		}
		if st.other == f {
			st.other = nil
		}
		if st.audio == nil && st.other == nil {
			delete(c.streams, id)
		}
	}
}

// flowComplete reacts to the peer finishing a flow: its control flow ends
// the connection; a stream's flow ends our flows of that stream.
func (c *Conn) flowComplete(f *recvFlow) {
	if f == c.ctrlRecv {
		c.fail(io.EOF)
		c.s.close(time.Now())
		return
	}
	if st := c.streams[f.streamID]; st != nil && f.streamID != 0 {
		for _, g := range []*sendFlow{st.audio, st.other} {
			if g != nil {
				g.close()
			}
		}
		delete(c.streams, f.streamID)
	}
}

func (c *Conn) fail(err error) {
	c.once.Do(func() {
		c.err = err
		close(c.done)
	})
}

// Close closes the session (Close chunks until acknowledged).
func (c *Conn) Close() error {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.s.close(time.Now())
	return nil
}

// Done is closed when the session has ended.
func (c *Conn) Done() <-chan struct{} { return c.done }

// RemoteAddr is the peer's current address.
func (c *Conn) RemoteAddr() net.Addr {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return net.UDPAddrFromAddrPort(c.s.addr)
}

// LocalAddr is the endpoint's own socket address (what setPeerInfo reports).
func (c *Conn) LocalAddr() net.Addr {
	if cl, ok := c.s.out.(*client); ok {
		return cl.pc.LocalAddr()
	}
	if srv, ok := c.s.out.(*Server); ok && srv.pc != nil {
		return srv.pc.LocalAddr()
	}
	return nil
}

// Admit lifts the session's pre-connect reassembly bound
// (Config.PreConnectBuffer) to SessionBuffer: the session layer calls it
// once the peer's connect is admitted.
func (c *Conn) Admit() {
	c.s.mu.Lock()
	c.s.admitted = true
	c.s.mu.Unlock()
}

// PeerID is the peer's fingerprint in hex (Flash's farID).
func (c *Conn) PeerID() string { return hex.EncodeToString(c.s.far[:]) }

// NearID is our own fingerprint in hex: Flash's NetConnection.nearID, the
// peer ID other clients reach us by.
func (c *Conn) NearID() string { return hex.EncodeToString(c.s.near[:]) }

// FarNonce is the peer's session nonce (Flash's FarNonce).
func (c *Conn) FarNonce() []byte { return c.s.keys.FarNonce }

// NearNonce is our session nonce (Flash's NearNonce).
func (c *Conn) NearNonce() []byte { return c.s.keys.NearNonce }

// Dropped counts messages dropped because a queue was full.
func (c *Conn) Dropped() uint64 { return c.dropped.Load() }

// PeerInfo is what the peer sent with setPeerInfo (its own addresses).
func (c *Conn) PeerInfo() []string {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return append([]string(nil), c.peerInfo...)
}

// SetPeerInfo records the peer's addresses from its setPeerInfo command and
// answers with the Set Keepalive user control event (RFC 7425 §5.3.4), as
// Flash Media Server does.
func (c *Conn) SetPeerInfo(addrs []string) {
	c.s.mu.Lock()
	if len(addrs) > 16 {
		addrs = addrs[:16]
	}
	c.peerInfo = append([]string(nil), addrs...)
	c.s.peerAddrs = c.s.peerAddrs[:0]
	for _, a := range addrs {
		if ap, err := netip.ParseAddrPort(a); err == nil && len(c.s.peerAddrs) < wire.MaxPeerAddrs {
			c.s.peerAddrs = append(c.s.peerAddrs, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()))
		}
	}
	ka := uint32(c.s.lim.keepalive / time.Millisecond)
	c.s.mu.Unlock()
	if r, ok := c.s.out.(interface{ registerPeer(*session) }); ok {
		r.registerPeer(c.s) // reachable by peer ID for introductions
	}
	p := make([]byte, 10)
	binary.BigEndian.PutUint16(p, userControlSetKeepalive)
	binary.BigEndian.PutUint32(p[2:], ka)
	binary.BigEndian.PutUint32(p[6:], ka)
	_ = c.WriteMessage(&message.Message{Type: message.TypeUserControl, Payload: p})
}

// Err is why the session ended (nil while it is open).
func (c *Conn) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// RoutineEnd reports whether err, the reason c ended, is routine (Close),
// so that the layer above need not log it (session.RoutineEnder).
func (c *Conn) RoutineEnd(err error) bool { return errors.Is(err, ErrClosed) }
