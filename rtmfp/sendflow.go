package rtmfp

import (
	"github.com/flashvox/flashvox/rtmfp/wire"
	"time"
)

// fragSize bounds the user data of one fragment so a data chunk with its
// options always fits one packet under the MTU.
const fragSize = 1024

// sendFrag is one fragment of a send flow.
type sendFrag struct {
	seq       uint64
	flags     uint8 // fragment position and final
	data      []byte
	deadline  time.Time // the message's: abandoned after it (zero: never); by value, one pointer less to chase per tick
	inFlight  bool
	acked     bool
	abandoned bool
	sent      bool
	nak       int
}

// sendFlow is one flow we send on (RFC 7016 §3.6.2). Owned by its session
// (under the session lock).
type sendFlow struct {
	id         uint64
	metadata   []byte
	returnFlow uint64
	hasReturn  bool
	priority   int // 0 first (audio), 1 the rest
	lifetime   time.Duration

	nextSeq  uint64
	frags    []*sendFrag // unacked fragments in sequence order (acked ones pruned from the head)
	opened   bool        // the receiver acknowledged something: options no longer sent
	rxWindow int         // receiver's buffer in bytes, from its last ack
	inflight int         // bytes of this flow in flight
	queued   int         // bytes waiting or in flight
	closing  bool        // the final fragment is queued
	done     bool        // finished (final fragment acked) or rejected by the receiver
	lastSeq  uint64      // sequence number with the final flag
}

func newSendFlow(id uint64, metadata []byte, returnFlow uint64, hasReturn bool) *sendFlow {
	return &sendFlow{id: id, metadata: metadata, returnFlow: returnFlow, hasReturn: hasReturn, nextSeq: 1, rxWindow: 65536}
}

// write queues a message, cut into fragments.
func (f *sendFlow) write(msg []byte, now time.Time) {
	var deadline time.Time
	if f.lifetime > 0 {
		deadline = now.Add(f.lifetime)
	}
	for first := true; first || len(msg) > 0; first = false {
		n := min(len(msg), fragSize)
		var fl uint8
		switch {
		case first && n == len(msg):
			fl = wire.FragWhole
		case first:
			fl = wire.FragBegin
		case n == len(msg):
			fl = wire.FragEnd
		default:
			fl = wire.FragMiddle
		}
		f.frags = append(f.frags, &sendFrag{seq: f.nextSeq, flags: fl, data: msg[:n], deadline: deadline})
		f.nextSeq++
		f.queued += n
		msg = msg[n:]
	}
}

// close queues the final fragment (an empty one with the final flag).
func (f *sendFlow) close() {
	if f.closing || f.done {
		return
	}
	f.closing = true
	f.lastSeq = f.nextSeq
	f.frags = append(f.frags, &sendFrag{seq: f.nextSeq, flags: wire.DataFinal})
	f.nextSeq++
}

// forward is the forward sequence number: every sequence number up to it
// is acknowledged or abandoned.
func (f *sendFlow) forward() uint64 {
	for _, fr := range f.frags {
		if !fr.acked && !fr.abandoned {
			return fr.seq - 1
		}
	}
	return f.nextSeq - 1
}

// expire abandons the fragments of messages past their lifetime and
// returns the bytes taken out of flight.
func (f *sendFlow) expire(now time.Time) (freed, abandoned int) {
	if f.lifetime <= 0 {
		return 0, 0
	}
	for _, fr := range f.frags {
		if fr.acked || fr.abandoned || fr.deadline.IsZero() {
			continue
		}
		if now.Before(fr.deadline) {
			break // messages are queued in time order with one lifetime: the rest are younger
		}
		fr.abandoned = true
		abandoned++
		if fr.inFlight {
			fr.inFlight = false
			f.inflight -= len(fr.data)
			freed += len(fr.data)
		}
	}
	f.prune()
	return freed, abandoned
}

// prune drops acknowledged and abandoned fragments from the head.
func (f *sendFlow) prune() {
	i := 0
	for i < len(f.frags) && (f.frags[i].acked || f.frags[i].abandoned) {
		f.queued -= len(f.frags[i].data)
		f.frags[i] = nil
		i++
	}
	f.frags = f.frags[i:]
	if len(f.frags) == 0 {
		f.frags = nil
		if f.closing {
			f.done = true
		}
	}
}

// onAck applies an acknowledgement; it returns the bytes newly
// acknowledged, the bytes taken out of flight, and whether a loss was
// detected (a fragment reported missing three times).
func (f *sendFlow) onAck(a *wire.Ack) (acked, freed int, loss bool) {
	f.opened = true
	if a.BufferBlocks > 1<<14 {
		f.rxWindow = 1 << 24
	} else {
		f.rxWindow = int(a.BufferBlocks) * 1024
	}
	highest := a.Cumulative
	if n := len(a.Ranges); n > 0 && a.Ranges[n-1].To > highest {
		highest = a.Ranges[n-1].To
	}
	ri := 0
	for _, fr := range f.frags {
		for ri < len(a.Ranges) && a.Ranges[ri].To < fr.seq {
			ri++
		}
		in := fr.seq <= a.Cumulative || (ri < len(a.Ranges) && a.Ranges[ri].From <= fr.seq)
		switch {
		case in && !fr.acked:
			fr.acked = true
			acked += len(fr.data) + 1
			if fr.inFlight {
				fr.inFlight = false
				f.inflight -= len(fr.data)
				freed += len(fr.data)
			}
		case !in && fr.inFlight && fr.seq < highest:
			fr.nak++
			if fr.nak >= 3 {
				fr.inFlight = false
				fr.nak = 0
				f.inflight -= len(fr.data)
				freed += len(fr.data)
				loss = true
			}
		}
	}
	f.prune()
	return acked, freed, loss
}

// timeout takes every fragment out of flight (to be sent again).
func (f *sendFlow) timeout() int {
	freed := 0
	for _, fr := range f.frags {
		if fr.inFlight {
			fr.inFlight = false
			freed += len(fr.data)
		}
	}
	f.inflight = 0
	return freed
}
