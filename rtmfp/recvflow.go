package rtmfp

import (
	"github.com/flashvox/flashvox/rtmfp/wire"
	"time"
)

// Receive limits that are not configurable.
const (
	maxRecvRanges = 256  // gaps a flow remembers
	maxAhead      = 4096 // how far past the next undelivered fragment a sequence number may be
)

type recvFrag struct {
	flags uint8
	data  []byte
}

// recvFlow is one flow the peer sends on. Owned by its session (under the
// session lock).
type recvFlow struct {
	id         uint64
	metadata   []byte
	returnFlow uint64
	hasReturn  bool
	streamID   uint32

	received []wire.SeqRange // sequence numbers received (or forwarded past), sorted
	frags    map[uint64]recvFrag
	next     uint64 // next sequence number to deliver
	buffered int    // bytes in frags
	capacity int    // the most bytes frags may hold

	finSeq     uint64
	finSeen    bool
	complete   bool
	completeAt time.Time
	rejected   bool
	exception  uint64
	needAck    bool
}

func newRecvFlow(u *wire.UserData, capacity int) *recvFlow {
	f := &recvFlow{
		id: u.FlowID, metadata: append([]byte(nil), u.Metadata...),
		returnFlow: u.ReturnFlow, hasReturn: u.HasReturnFlow,
		received: []wire.SeqRange{{From: 0, To: 0}}, frags: map[uint64]recvFrag{}, next: 1, capacity: capacity,
	}
	return f
}

func (f *recvFlow) cumulative() uint64 { return f.received[0].To }

func (f *recvFlow) has(s uint64) bool {
	for _, r := range f.received {
		if s < r.From {
			return false
		}
		if s <= r.To {
			return true
		}
	}
	return false
}

// add records [from, to] as received; false (nothing recorded) when that
// would make too many ranges.
func (f *recvFlow) add(from, to uint64) bool {
	rs := f.received
	i := 0
	for i < len(rs) && rs[i].To+1 < from {
		i++
	}
	j := i
	for j < len(rs) && rs[j].From <= to+1 {
		from = min(from, rs[j].From)
		to = max(to, rs[j].To)
		j++
	}
	if i == j && len(rs) >= maxRecvRanges {
		return false
	}
	nr := append(rs[:i:i], wire.SeqRange{From: from, To: to})
	f.received = append(nr, rs[j:]...)
	return true
}

// onData takes one data chunk. It returns the messages now complete, in
// order, the change of buffered bytes, and whether to acknowledge at once.
// room is how many more bytes the session lets this flow buffer.
func (f *recvFlow) onData(u *wire.UserData, room int, deliver func([]byte)) (delta int, ackNow bool) {
	f.needAck = true
	if f.complete || f.rejected {
		return 0, true
	}
	if u.Seq >= f.next+maxAhead || u.Seq == 0 {
		return 0, false
	}
	before := f.buffered
	ranges := len(f.received)
	fresh := !f.has(u.Seq)
	ackNow = !fresh || u.Flags&(wire.DataAbandon|wire.DataFinal) != 0
	if fsn := u.Seq - u.FSNOffset; fsn > f.cumulative() {
		f.add(0, fsn)
	}
	if fresh {
		keep := u.Flags&wire.DataAbandon == 0 && u.Seq >= f.next
		if keep && (len(u.Data) > room || f.buffered+len(u.Data) > f.capacity) {
			return 0, true // no room: not recorded, the sender sends it again
		}
		if !f.add(u.Seq, u.Seq) {
			return 0, true
		}
		if u.Flags&wire.DataFinal != 0 && !f.finSeen {
			f.finSeq, f.finSeen = u.Seq, true
		}
		if keep {
			f.frags[u.Seq] = recvFrag{flags: u.Flags, data: append([]byte(nil), u.Data...)}
			f.buffered += len(u.Data)
		}
	}
	f.deliver(deliver)
	if f.finSeen && len(f.received) == 1 && f.cumulative() >= f.finSeq {
		f.complete = true
		ackNow = true
	}
	if len(f.received) != ranges || len(f.received) > 1 {
		ackNow = true
	}
	return f.buffered - before, ackNow
}

// deliver hands over every complete message at the head, skipping what the
// sender abandoned (missing and at or below the forward sequence number).
func (f *recvFlow) deliver(out func([]byte)) {
	fsn := f.cumulative()
	for {
		fr, ok := f.frags[f.next]
		if !ok {
			if f.next <= fsn {
				f.next++
				continue
			}
			return
		}
		switch fr.flags & wire.FragMask {
		case wire.FragWhole:
			f.drop(f.next)
			f.next++
			if len(fr.data) > 0 || fr.flags&wire.DataFinal == 0 {
				out(fr.data)
			}
		case wire.FragBegin:
			end, broken := f.next, uint64(0)
			for s := f.next + 1; ; s++ {
				g, ok := f.frags[s]
				if !ok {
					if s <= fsn {
						broken = s
					}
					break
				}
				if g.flags&wire.FragMask == wire.FragEnd {
					end = s
					break
				}
				if g.flags&wire.FragMask != wire.FragMiddle {
					broken = s - 1
					break
				}
			}
			switch {
			case end > f.next:
				n := 0
				for s := f.next; s <= end; s++ {
					n += len(f.frags[s].data)
				}
				msg := make([]byte, 0, n)
				for s := f.next; s <= end; s++ {
					msg = append(msg, f.frags[s].data...)
					f.drop(s)
				}
				f.next = end + 1
				out(msg)
			case broken > 0:
				for s := f.next; s <= broken; s++ {
					f.drop(s)
				}
				f.next = broken + 1
			default:
				return // wait for the rest
			}
		default: // a middle or end whose beginning was abandoned
			f.drop(f.next)
			f.next++
		}
	}
}

func (f *recvFlow) drop(s uint64) {
	if fr, ok := f.frags[s]; ok {
		f.buffered -= len(fr.data)
		delete(f.frags, s)
	}
}

// ack builds the acknowledgement of this flow.
func (f *recvFlow) ack(a *wire.Ack) {
	free := max(f.capacity-f.buffered, 0)
	blocks := uint64((free + 1023) / 1024)
	if blocks == 0 && !f.complete {
		blocks = 1
	}
	a.FlowID, a.BufferBlocks, a.Cumulative = f.id, blocks, f.cumulative()
	a.Ranges = append(a.Ranges[:0], f.received[1:min(len(f.received), wire.MaxAckRanges+1)]...)
}
