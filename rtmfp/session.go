package rtmfp

import (
	"log/slog"
	"math"
	"net/netip"
	"sync"
	"time"

	"github.com/flashvox/flashvox/rtmfp/wire"
)

// staleAddrAfter: a session silent this long gives its address up to a
// new endpoint that keys from it with another certificate.
const staleAddrAfter = 5 * time.Second

// Session timing (RFC 7016 §3.5.2, rtmfp-cpp's values).
const (
	initialRTO     = 3 * time.Second
	minRTO         = 250 * time.Millisecond
	maxRTO         = 10 * time.Second
	delayedAck     = 200 * time.Millisecond
	closeRetry     = time.Second
	closeGiveUp    = 10 * time.Second
	farCloseLinger = 5 * time.Second
	flowLinger     = 120 * time.Second
	maxTSEchoAge   = 128 * time.Second
	mss            = fragSize + 64
	cwndInit       = 3 * mss
	cwndTimedOut   = 2 * mss
	maxPing        = 256
)

type sessionState int

const (
	stateOpen      sessionState = iota
	stateNearClose              // we sent Close, waiting for Close Acknowledgement
	stateFarClose               // the peer closed; we answer its Close until the linger ends
	stateClosed
)

// sender writes datagrams; the Server and the client endpoint implement it.
type sender interface {
	writeTo(b []byte, addr netip.AddrPort)
	epoch() time.Time
}

// sessionLimits are the per-session limits taken from the Config.
type sessionLimits struct {
	maxFlows      int
	flowBuffer    int
	sessionBuffer int
	preConnect    int // sessionBuffer's bound until Conn.Admit (0: none)
	maxQueued     int
	idleTimeout   time.Duration
	keepalive     time.Duration
	audioLifetime time.Duration
	// congestionDelay: RTT this far above the baseline is congestion (0: off).
	congestionDelay time.Duration
}

// session is one open RTMFP session with a peer. mu guards all of it; the
// endpoint's reader (packets), its timer (tick) and the Conn's writers
// (WriteMessage) take it.
type session struct {
	mu     sync.Mutex
	out    sender
	log    *slog.Logger
	lim    sessionLimits
	stats  *Stats
	role   uint8 // our header mode
	rxID   uint32
	txID   uint32
	addr   netip.AddrPort
	crypto *wire.PacketCrypto
	keys   wire.SessionKeys
	far    [32]byte // the peer's fingerprint
	near   [32]byte // ours
	// peerAddrs are the addresses the peer reported with setPeerInfo.
	peerAddrs []netip.AddrPort
	farCert   []byte
	// Introductions of this session this second (Server.introduce).
	introSec int64
	introN   int

	// Responder: what a retransmitted IIKeying is matched with.
	skic     []byte
	rikeying []byte

	state     sessionState
	closeWait time.Duration // how long Close waits for its acknowledgement
	closeAt   time.Time     // when Close was first sent, or the linger started
	closeSent time.Time

	sendFlows  map[uint64]*sendFlow
	sendOrder  []*sendFlow
	nextFlowID uint64
	recvFlows  map[uint64]*recvFlow
	recvBytes  int

	tsRx      uint16
	tsRxAt    time.Time
	haveTsRx  bool
	tsEchoTx  int
	tsEchoRx  int
	srtt      time.Duration
	rttvar    time.Duration
	rto       time.Duration
	lastRecv  time.Time
	pingSent  time.Time
	ackDue    time.Time
	dataPkts  int
	rtoAt     time.Time
	cwnd      int
	ssthresh  int
	inflight  int
	mobility  netip.AddrPort
	mobilityT uint64
	lingerAt  time.Time // last look for finished receive flows past their linger
	// Delay-based congestion detection (cc.go).
	rttHist    rttHistory
	delayCutAt time.Time

	conn     *Conn
	admitted bool // Conn.Admit was called: lim.preConnect no longer applies
	// fl, when set, sends queued media a moment later (flusher.go);
	// flushQueued: s is on its list.
	fl          *flusher
	flushQueued bool

	plain  []byte // packet being assembled (empty: none begun)
	hdrLen int    // its header's length
	buf    []byte // datagram scratch
	ack    wire.Ack
	ud     wire.UserData
	prev   wire.UserData
	pkt    wire.Packet
}

func newSession(out sender, role uint8, rxID, txID uint32, addr netip.AddrPort, keys wire.SessionKeys, lim sessionLimits, stats *Stats, log *slog.Logger, now time.Time) *session {
	s := &session{
		out: out, log: log, lim: lim, stats: stats, role: role, rxID: rxID, txID: txID, addr: addr,
		crypto: keys.Crypto, keys: keys,
		sendFlows: map[uint64]*sendFlow{}, nextFlowID: 1, recvFlows: map[uint64]*recvFlow{},
		tsEchoTx: -1, tsEchoRx: -1, rto: initialRTO, lastRecv: now, closeWait: closeGiveUp,
		cwnd: cwndInit, ssthresh: math.MaxInt32,
		plain: make([]byte, 0, wire.MTU), buf: make([]byte, 0, wire.MTU+64),
	}
	s.conn = newConn(s)
	return s
}

// ticks is the 4 ms header clock.
func (s *session) ticks(now time.Time) uint16 {
	return uint16(now.Sub(s.out.epoch()) / (wire.TimestampPeriodMs * time.Millisecond))
}

// startPacket begins a packet with our mode, timestamp and echo, unless
// one is already begun.
func (s *session) startPacket(now time.Time) {
	if len(s.plain) > 0 {
		return
	}
	h := wire.Header{Flags: s.role | wire.FlagTimestamp, Timestamp: s.ticks(now)}
	if s.haveTsRx && now.Sub(s.tsRxAt) < maxTSEchoAge {
		e := s.tsRx + uint16(now.Sub(s.tsRxAt)/(wire.TimestampPeriodMs*time.Millisecond))
		if int(e) != s.tsEchoTx {
			h.Flags |= wire.FlagTimestampEcho
			h.TimestampEcho = e
			s.tsEchoTx = int(e)
		}
	}
	s.plain = wire.AppendHeader(s.plain[:0], h)
	s.hdrLen = len(s.plain)
}

// room is how many chunk bytes still fit the packet being assembled.
func (s *session) room() int {
	n := len(s.plain)
	if n == 0 {
		n = wire.MaxHeaderSize
	}
	return wire.MTU - s.crypto.Overhead() - n
}

// addChunk appends a chunk, sending the current packet first when it does
// not fit.
func (s *session) addChunk(now time.Time, typ uint8, body []byte) {
	if wire.ChunkHeaderSize+len(body) > s.room() {
		s.flushPacket()
	}
	s.startPacket(now)
	s.plain = wire.AppendChunk(s.plain, typ, body)
}

// flushPacket sends the packet being assembled, if it has chunks.
func (s *session) flushPacket() {
	if len(s.plain) > s.hdrLen {
		s.sendPlain(s.plain, s.txID, s.addr)
	}
	s.plain = s.plain[:0]
}

func (s *session) sendPlain(plain []byte, ssid uint32, addr netip.AddrPort) {
	s.buf = s.crypto.Seal(s.buf[:0], ssid, plain)
	s.out.writeTo(s.buf, addr)
	s.stats.add(&s.stats.BytesOut, uint64(len(s.buf)))
}

// sendChunk sends one chunk in a packet of its own (to addr), after the
// packet being assembled.
func (s *session) sendChunk(now time.Time, typ uint8, body []byte, addr netip.AddrPort) {
	s.flushPacket()
	s.startPacket(now)
	s.plain = wire.AppendChunk(s.plain, typ, body)
	s.sendPlain(s.plain, s.txID, addr)
	s.plain = s.plain[:0]
}

// onPacket handles one decrypted packet from addr. Called with mu held.
func (s *session) onPacket(p *wire.Packet, addr netip.AddrPort, now time.Time) {
	if m := p.Mode(); m == s.role || m == 0 || m == wire.ModeStartup {
		return
	}
	if s.state == stateClosed {
		return
	}
	s.lastRecv = now
	s.pingSent = time.Time{}
	if p.Flags&wire.FlagTimestamp != 0 {
		s.tsRx, s.tsRxAt, s.haveTsRx = p.Timestamp, now, true
	}
	if p.Flags&wire.FlagTimestampEcho != 0 && int(p.TimestampEcho) != s.tsEchoRx {
		s.tsEchoRx = int(p.TimestampEcho)
		if d := s.ticks(now) - p.TimestampEcho; d < 32768 {
			s.rttSample(time.Duration(d)*wire.TimestampPeriodMs*time.Millisecond, now)
		}
	}
	flight := s.inflight
	var t chunkTally
	for _, c := range p.Chunks {
		if s.state != stateOpen {
			switch c.Type {
			case wire.ChunkClose:
				s.addChunk(now, wire.ChunkCloseAck, nil)
			case wire.ChunkCloseAck:
				s.setClosed()
			}
			continue
		}
		s.onChunk(c, addr, now, &t)
	}
	if t.sawData {
		s.dataPkts++
	}
	if t.anyAck {
		s.onAcked(t.acked, t.loss, flight, now)
	}
	if addr != s.addr && s.state == stateOpen {
		s.checkMobility(addr, now)
	}
	if t.ackNow || s.dataPkts >= 2 {
		s.sendAcks(now)
	} else if t.sawData && s.ackDue.IsZero() {
		s.ackDue = now.Add(delayedAck)
	}
	s.transmit(now)
}

// chunkTally is what the chunks of one packet did, for the acknowledgement
// and congestion decisions onPacket takes once per packet.
type chunkTally struct {
	sawData, ackNow, anyAck, loss bool
	acked                         int  // bytes the acknowledgements freed
	prevOK                        bool // the last user data parsed: a Next chunk builds on it
}

// onChunk handles one chunk of an open session's packet.
func (s *session) onChunk(c wire.Chunk, addr netip.AddrPort, now time.Time, t *chunkTally) {
	switch c.Type {
	case wire.ChunkPing:
		if len(c.Value) <= maxPing {
			s.addChunk(now, wire.ChunkPingReply, c.Value)
		}
	case wire.ChunkPingReply:
		s.onPingReply(c.Value, addr)
	case wire.ChunkUserData:
		t.prevOK = s.ud.Unmarshal(c.Value) == nil
		if t.prevOK {
			t.ackNow = s.onUserData(&s.ud, now) || t.ackNow
			s.prev = s.ud
			t.sawData = true
		}
	case wire.ChunkNextUserData:
		if t.prevOK {
			t.prevOK = s.ud.UnmarshalNext(c.Value, &s.prev) == nil
		}
		if t.prevOK {
			t.ackNow = s.onUserData(&s.ud, now) || t.ackNow
			s.prev = s.ud
		}
	case wire.ChunkAckRanges, wire.ChunkAckBitmap:
		s.onAckChunk(c, t)
	case wire.ChunkBufferProbe, wire.ChunkException:
		s.onFlowChunk(c, t)
	case wire.ChunkFIHello:
		if h, ok := s.out.(interface{ onFIHello([]byte, time.Time) }); ok && s.role == wire.ModeInitiator {
			h.onFIHello(c.Value, now)
		}
	case wire.ChunkClose:
		s.addChunk(now, wire.ChunkCloseAck, nil)
		s.state, s.closeAt = stateFarClose, now
		s.conn.fail(ErrClosed)
	case wire.ChunkCloseAck:
		s.setClosed()
	}
}

// onAckChunk applies an acknowledgement (ranges or bitmap) to its flow.
func (s *session) onAckChunk(c wire.Chunk, t *chunkTally) {
	var err error
	if c.Type == wire.ChunkAckRanges {
		err = s.ack.Unmarshal(c.Value)
	} else {
		err = s.ack.UnmarshalBitmap(c.Value)
	}
	if err != nil {
		return
	}
	f := s.sendFlows[s.ack.FlowID]
	if f == nil {
		return
	}
	a, freed, l := f.onAck(&s.ack)
	t.acked += a
	s.inflight -= freed
	t.loss = t.loss || l
	t.anyAck = true
	if f.done {
		s.removeSendFlow(f)
	}
}

// onFlowChunk handles a buffer probe (acknowledge the flow now) or a flow
// exception (the far end refused our flow).
func (s *session) onFlowChunk(c wire.Chunk, t *chunkTally) {
	id, _, err := wire.ParseVLU(c.Value)
	if err != nil {
		return
	}
	if c.Type == wire.ChunkBufferProbe {
		if f := s.recvFlows[id]; f != nil {
			f.needAck = true
			t.ackNow = true
		}
		return
	}
	if f := s.sendFlows[id]; f != nil {
		s.inflight -= f.timeout()
		f.done = true
		s.removeSendFlow(f)
		s.conn.flowRejected(f)
	}
}

// tick runs the session's timers. It reports whether the session is over
// and may be forgotten.
func (s *session) tick(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.state {
	case stateClosed:
		return true
	case stateFarClose:
		if now.Sub(s.closeAt) > farCloseLinger {
			s.setClosed()
			return true
		}
		return false
	case stateNearClose:
		if now.Sub(s.closeAt) > s.closeWait {
			s.setClosed()
			return true
		}
		if now.Sub(s.closeSent) >= closeRetry {
			s.closeSent = now
			s.sendChunk(now, wire.ChunkClose, nil, s.addr)
		}
		return false
	}
	if idle := now.Sub(s.lastRecv); idle > s.lim.idleTimeout {
		s.log.Debug("idle timeout", "idle", idle)
		s.abort(ErrIdle)
		return true
	} else if idle > s.lim.keepalive && (s.pingSent.IsZero() || now.Sub(s.pingSent) > s.lim.keepalive) {
		s.pingSent = now
		s.sendChunk(now, wire.ChunkPing, nil, s.addr)
	}
	if !s.rtoAt.IsZero() && now.After(s.rtoAt) {
		for _, f := range s.sendOrder {
			s.inflight -= f.timeout()
		}
		s.inflight = 0
		s.cwnd = cwndTimedOut
		s.ssthresh = max(s.ssthresh/2, cwndTimedOut)
		s.rto = min(time.Duration(float64(s.rto)*math.Sqrt2), maxRTO)
		s.rtoAt = time.Time{}
		s.rttHist.reset()
	}
	if !s.ackDue.IsZero() && now.After(s.ackDue) {
		s.sendAcks(now)
	}
	if now.Sub(s.lingerAt) >= time.Second { // not every tick: a map walk per session showed in profiles
		s.lingerAt = now
		for id, f := range s.recvFlows {
			if !f.completeAt.IsZero() && now.Sub(f.completeAt) > flowLinger {
				delete(s.recvFlows, id)
			}
		}
	}
	s.transmit(now)
	return false
}

// close starts an orderly close (Close until Close Acknowledgement).
func (s *session) close(now time.Time) {
	if s.state != stateOpen {
		return
	}
	if s.flushQueued {
		s.transmit(now) // what WriteMessage queued goes before the Close
	}
	s.state, s.closeAt, s.closeSent = stateNearClose, now, now
	s.sendChunk(now, wire.ChunkClose, nil, s.addr)
	s.conn.fail(ErrClosed)
}

// abort ends the session at once.
func (s *session) abort(err error) {
	s.conn.fail(err)
	s.setClosed()
}

func (s *session) setClosed() {
	s.state = stateClosed
	s.conn.fail(ErrClosed)
	s.recvFlows = map[uint64]*recvFlow{}
	s.sendFlows = map[uint64]*sendFlow{}
	s.sendOrder = nil
	s.recvBytes, s.inflight = 0, 0
}
