package rtmfp

// A session's flows: receiving user data, acknowledging it, and sending
// what congestion and flow control allow (RFC 7016 §3.6).

import (
	"github.com/flashvox/flashvox/rtmfp/wire"
	"time"
)

// onUserData hands a data chunk to its flow, opening the flow if new.
// It reports whether to acknowledge at once.
func (s *session) onUserData(u *wire.UserData, now time.Time) bool {
	f := s.recvFlows[u.FlowID]
	if f == nil {
		if u.Metadata == nil {
			return false // data for a flow we never saw (or forgot): ignore
		}
		if reason, ok := s.acceptFlow(u); !ok {
			s.reject(now, u.FlowID, reason)
			return true
		}
		f = newRecvFlow(u, s.lim.flowBuffer)
		if sid, ok := parseTCMetadata(u.Metadata); ok {
			f.streamID = sid
		}
		s.recvFlows[u.FlowID] = f
	}
	limit := s.lim.sessionBuffer
	if s.lim.preConnect > 0 && !s.admitted {
		limit = min(limit, s.lim.preConnect)
	}
	room := limit - s.recvBytes
	delta, ackNow := f.onData(u, room, func(msg []byte) { s.conn.deliver(f, msg) })
	s.recvBytes += delta
	return ackNow
}

// acceptFlow decides on a new flow: TC metadata, a return association with
// one of our flows, and the flow limit.
func (s *session) acceptFlow(u *wire.UserData) (uint64, bool) {
	if u.Unknown || len(s.recvFlows) >= s.lim.maxFlows {
		return 0, false
	}
	if _, ok := parseTCMetadata(u.Metadata); !ok {
		return 0, false
	}
	if u.HasReturnFlow && s.sendFlows[u.ReturnFlow] == nil {
		return 0, false
	}
	return 0, true
}

func (s *session) reject(now time.Time, flowID, code uint64) {
	b := wire.AppendVLU(nil, flowID)
	b = wire.AppendVLU(b, code)
	s.addChunk(now, wire.ChunkException, b)
}

// sendAcks adds the acknowledgement of every flow that needs one.
func (s *session) sendAcks(now time.Time) {
	var body [256]byte
	for id, f := range s.recvFlows {
		if !f.needAck {
			continue
		}
		f.needAck = false
		f.ack(&s.ack)
		b := s.ack.AppendTo(body[:0])
		for len(b)+wire.ChunkHeaderSize > wire.MTU-s.crypto.Overhead()-wire.MaxHeaderSize && len(s.ack.Ranges) > 0 {
			s.ack.Ranges = s.ack.Ranges[:len(s.ack.Ranges)/2]
			b = s.ack.AppendTo(body[:0])
		}
		s.addChunk(now, wire.ChunkAckRanges, b)
		if f.complete && f.completeAt.IsZero() {
			f.completeAt = now
			s.recvBytes -= f.buffered
			s.conn.flowComplete(f)
		}
		_ = id
	}
	s.dataPkts = 0
	s.ackDue = time.Time{}
}

// transmit sends what congestion and flow control allow, then flushes
// the packet being assembled (which may hold acks).
func (s *session) transmit(now time.Time) {
	for _, f := range s.sendOrder {
		if n, a := f.expire(now); a > 0 {
			s.inflight -= n
			s.stats.add(&s.stats.Abandoned, uint64(a))
		}
	}
	prevFlow, prevSeq := uint64(0), uint64(0)
	var body []byte
outer:
	for _, f := range s.sendOrder {
		if f.done {
			continue
		}
		for _, fr := range f.frags {
			if fr.acked || fr.abandoned || fr.inFlight {
				continue
			}
			if s.inflight > 0 && s.inflight+len(fr.data) > s.cwnd {
				break outer
			}
			if f.inflight > 0 && f.inflight+len(fr.data) > f.rxWindow {
				break // flow control; with nothing in flight one fragment goes (it probes a closed window)
			}
			fsn := f.forward()
			u := wire.UserData{Flags: fr.flags, FlowID: f.id, Seq: fr.seq, FSNOffset: fr.seq - fsn, Data: fr.data}
			if !f.opened {
				u.Flags |= wire.DataOptions
				u.Metadata = f.metadata
				u.ReturnFlow, u.HasReturnFlow = f.returnFlow, f.hasReturn
			}
			next := prevFlow == f.id && prevSeq+1 == fr.seq && u.Flags&wire.DataOptions == 0 && len(s.plain) > s.hdrLen
			body = u.AppendTo(body[:0], next)
			typ := uint8(wire.ChunkUserData)
			if next {
				typ = wire.ChunkNextUserData
				if wire.ChunkHeaderSize+len(body) > s.room() {
					body = u.AppendTo(body[:0], false)
					typ = wire.ChunkUserData
				}
			}
			if wire.ChunkHeaderSize+len(body) > s.room() {
				s.flushPacket()
				if typ == wire.ChunkNextUserData {
					body = u.AppendTo(body[:0], false)
					typ = wire.ChunkUserData
				}
			}
			s.startPacket(now)
			s.plain = wire.AppendChunk(s.plain, typ, body)
			if fr.sent {
				s.stats.add(&s.stats.Retransmissions, 1)
			}
			fr.sent, fr.inFlight = true, true
			f.inflight += len(fr.data)
			s.inflight += len(fr.data)
			prevFlow, prevSeq = f.id, fr.seq
		}
	}
	s.flushPacket()
	if s.inflight > 0 && s.rtoAt.IsZero() {
		s.rtoAt = now.Add(s.rto)
	}
}

// openSendFlow creates a flow; audio flows go first.
func (s *session) openSendFlow(metadata []byte, returnFlow uint64, hasReturn bool, priority int, lifetime time.Duration) *sendFlow {
	f := newSendFlow(s.nextFlowID, metadata, returnFlow, hasReturn)
	f.priority, f.lifetime = priority, lifetime
	s.nextFlowID++
	s.sendFlows[f.id] = f
	i := len(s.sendOrder)
	for i > 0 && s.sendOrder[i-1].priority > priority {
		i--
	}
	s.sendOrder = append(s.sendOrder, nil)
	copy(s.sendOrder[i+1:], s.sendOrder[i:])
	s.sendOrder[i] = f
	return f
}

func (s *session) removeSendFlow(f *sendFlow) {
	delete(s.sendFlows, f.id)
	for i, g := range s.sendOrder {
		if g == f {
			s.sendOrder = append(s.sendOrder[:i], s.sendOrder[i+1:]...)
			break
		}
	}
}

// queued is the bytes waiting in every send flow.
func (s *session) queued() int {
	n := 0
	for _, f := range s.sendOrder {
		n += f.queued
	}
	return n
}
