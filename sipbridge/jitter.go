package sipbridge

import (
	"time"

	"github.com/pion/rtp"
)

// DefaultJitterBuffer is how long a packet after a sequence gap is held
// for the missing ones (Options.JitterBuffer, config sip.jitter_buffer).
const DefaultJitterBuffer = 60 * time.Millisecond

// jitterSlots bounds what the buffer holds: a gap older than this many
// packets is given up at once, whatever the depth (memory stays fixed;
// 64 × 20 ms is far beyond any depth we allow).
const jitterSlots = 64

// seqReset: a sequence jump this large (either way) is a new stream (the
// peer restarted or switched SSRC), not loss or lateness (RFC 3550 A.1
// uses the same idea with MAX_DROPOUT).
const seqReset = 1000

// jitterBuffer puts one RTP stream back in sequence order before its audio
// is published on the hub. It is a reorder buffer with a bounded wait:
//   - packets in order pass at once (no latency is added when nothing is
//     missing);
//   - after a gap, later packets are held until the missing ones arrive or
//     the oldest held packet has waited depth; then the gap is skipped and
//     counted as lost (the hub and the Flash player conceal it from the
//     timestamps, which keep the RTP clock);
//   - a packet older than the next expected one is dropped: a duplicate
//     if it was already delivered, else late (its gap was already skipped).
//
// Arrival jitter itself needs no playout delay here: frames keep their RTP
// timestamps, and what plays them (the Flash player's buffer, the hub's
// transcoders and the conference mixer) paces by timestamp.
//
// It is not safe for concurrent use.
type jitterBuffer struct {
	depth time.Duration
	// emit is given each packet in order; the packet is only valid
	// during the call.
	emit func(*rtp.Packet)

	started bool
	next    uint16 // the sequence number due next
	ssrc    uint32
	// delivered has bit i set when next-1-i was delivered (duplicates).
	delivered uint64
	held      [jitterSlots]jitterEntry // by sequence number mod jitterSlots
	nheld     int

	// Counters since the start: Lost are sequence numbers skipped;
	// Restarts are new streams (SSRC change or a jump, see seqReset).
	Lost, Late, Duplicate, Restarts uint64
}

type jitterEntry struct {
	ok      bool
	seq     uint16
	arrived time.Time
	pkt     rtp.Packet
	buf     []byte // owns pkt.Payload
}

func newJitterBuffer(depth time.Duration, emit func(*rtp.Packet)) *jitterBuffer {
	return &jitterBuffer{depth: depth, emit: emit}
}

// Push takes one packet that arrived at now (its payload is copied if it
// has to wait) and delivers whatever is due.
func (j *jitterBuffer) Push(p *rtp.Packet, now time.Time) {
	if !j.started || p.SSRC != j.ssrc {
		j.restart(p)
	}
	d := int16(p.SequenceNumber - j.next)
	switch {
	case d > seqReset || d < -seqReset:
		j.restart(p)
		d = 0
	case d < 0:
		if back := uint(-d) - 1; back < 64 && j.delivered&(1<<back) != 0 {
			j.Duplicate++
		} else {
			j.Late++
		}
		return
	}
	if d == 0 {
		j.deliver(p)
		j.drain()
		j.Expire(now)
		return
	}
	if int(d) >= jitterSlots {
		// Too far ahead to hold: give up the gap now.
		j.skipTo(p.SequenceNumber - jitterSlots + 1)
	}
	e := &j.held[p.SequenceNumber%jitterSlots]
	if e.ok {
		if e.seq == p.SequenceNumber {
			j.Duplicate++
		}
		return
	}
	e.ok, e.seq, e.arrived = true, p.SequenceNumber, now
	e.buf = append(e.buf[:0], p.Payload...)
	e.pkt = *p
	e.pkt.Payload = e.buf
	j.nheld++
	j.drain()
	j.Expire(now)
}

// Expire skips the gaps in front of packets held for depth or longer and
// delivers what follows them. It returns how long until the next packet
// would expire, 0 when nothing is held.
func (j *jitterBuffer) Expire(now time.Time) time.Duration {
	for j.nheld > 0 {
		// The packet waiting longest may not be the first due (reordering).
		var first *jitterEntry
		for i := range j.held {
			if e := &j.held[i]; e.ok && (first == nil || e.arrived.Before(first.arrived)) {
				first = e
			}
		}
		wait := j.depth - now.Sub(first.arrived)
		if wait > 0 {
			return wait
		}
		j.skipTo(first.seq)
		j.drain()
	}
	return 0
}

// Held is how many packets wait for a gap to fill.
func (j *jitterBuffer) Held() int { return j.nheld }

// Flush delivers everything held in order, skipping the gaps (the stream ends).
func (j *jitterBuffer) Flush() {
	for j.nheld > 0 {
		j.skipTo(j.oldestHeld().seq)
		j.drain()
	}
}

func (j *jitterBuffer) restart(p *rtp.Packet) {
	j.Flush()
	if j.started {
		j.Restarts++
	}
	j.started, j.ssrc, j.next, j.delivered = true, p.SSRC, p.SequenceNumber, 0
}

// oldestHeld is the held packet nearest after next (the first one due).
func (j *jitterBuffer) oldestHeld() *jitterEntry {
	for i := range uint16(jitterSlots) {
		if e := &j.held[(j.next+i)%jitterSlots]; e.ok && e.seq == j.next+i {
			return e
		}
	}
	// Unreachable while nheld > 0: every held packet is within jitterSlots of next.
	panic("sipbridge: jitter buffer lost track of a held packet")
}

// skipTo counts the sequence numbers from next up to seq as lost.
func (j *jitterBuffer) skipTo(seq uint16) {
	for j.next != seq {
		if e := &j.held[j.next%jitterSlots]; e.ok && e.seq == j.next {
			j.deliver(&e.pkt)
			e.ok = false
			j.nheld--
			continue
		}
		j.Lost++
		j.next++
		j.delivered <<= 1
	}
}

// drain delivers held packets while the next one due is there.
func (j *jitterBuffer) drain() {
	for j.nheld > 0 {
		e := &j.held[j.next%jitterSlots]
		if !e.ok || e.seq != j.next {
			return
		}
		e.ok = false
		j.nheld--
		j.deliver(&e.pkt)
	}
}

func (j *jitterBuffer) deliver(p *rtp.Packet) {
	j.next = p.SequenceNumber + 1
	j.delivered = j.delivered<<1 | 1
	j.emit(p)
}
