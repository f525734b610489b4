package webrtc

import (
	"errors"
	"time"
)

// RFC 4733 telephone-events. A WHIP publisher's digits are published on
// its stream as media.KindDTMF frames (Payload: the digit characters), the
// frames of a played stream go to a WHEP player as event packets.

// telephoneEvent is an RFC 4733 §2.3 payload:
//
//	event(8) | E(1) R(1) volume(6) | duration(16)
type telephoneEvent struct {
	event    uint8 // 0-9, 10 '*', 11 '#', 12-15 A-D
	end      bool
	volume   uint8  // 0..63, -dBm0
	duration uint16 // RTP clock units since the event's timestamp
}

const eventSize = 4

var errEventShort = errors.New("telephone-event payload shorter than 4 bytes")

// unmarshal reads the first four bytes of b (a redundant RFC 2198 block
// or padding after them is ignored).
func (e *telephoneEvent) unmarshal(b []byte) error {
	if len(b) < eventSize {
		return errEventShort
	}
	e.event, e.end, e.volume = b[0], b[1]&0x80 != 0, b[1]&0x3f
	e.duration = uint16(b[2])<<8 | uint16(b[3])
	return nil
}

// appendTo appends the four payload bytes to b.
func (e telephoneEvent) appendTo(b []byte) []byte {
	v := e.volume & 0x3f
	if e.end {
		v |= 0x80
	}
	return append(b, e.event, v, byte(e.duration>>8), byte(e.duration))
}

const dtmfDigits = "0123456789*#ABCD"

// digitOf is the character of event ev, ok false for a non-DTMF event
// (RFC 4733 also codes tones and line events; they are not digits).
func digitOf(ev uint8) (byte, bool) {
	if int(ev) < len(dtmfDigits) {
		return dtmfDigits[ev], true
	}
	return 0, false
}

// eventOf is the event code of digit d.
func eventOf(d byte) (uint8, bool) {
	for i := range len(dtmfDigits) {
		if dtmfDigits[i] == d {
			return uint8(i), true
		}
	}
	return 0, false
}

// eventDetector turns telephone-event packets into digits: one per event
// (per RTP timestamp), reported at its first end packet, or when the next
// event starts if every end packet was lost.
type eventDetector struct {
	ts       uint32
	seen     bool
	reported bool
	ev       uint8
}

// push takes one packet and returns a digit when one completes.
func (d *eventDetector) push(ts uint32, payload []byte) (byte, bool) {
	var e telephoneEvent
	if e.unmarshal(payload) != nil {
		return 0, false
	}
	if !d.seen || ts != d.ts {
		lost, prev := d.seen && !d.reported, d.ev
		d.ts, d.seen, d.reported, d.ev = ts, true, false, e.event
		if lost {
			return digitOf(prev)
		}
	}
	if e.end && !d.reported {
		d.reported = true
		return digitOf(e.event)
	}
	return 0, false
}

// digitBucket bounds the digits one session may publish: a burst of
// digitBurst, then digitRate a second (a person dials 5-10 a second; a
// flood of distinct-timestamp events must not become a flood of frames).
type digitBucket struct {
	tokens float64
	last   time.Time
}

const (
	digitBurst = 20
	digitRate  = 10
)

// allow takes one token at now.
func (b *digitBucket) allow(now time.Time) bool {
	if b.last.IsZero() {
		b.tokens = digitBurst
	} else {
		b.tokens = min(digitBurst, b.tokens+now.Sub(b.last).Seconds()*digitRate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// Outgoing events: each digit lasts eventSteps packets of 20 ms; its end
// is sent three times (RFC 4733 §2.5.1.4).
const (
	eventSteps = 5
	eventEnds  = 3
)

// eventPackets are the payloads of one digit's event at clock Hz: the
// updates, then the three ends. They are sent as one burst: their
// durations say how long the digit lasts, which is what a receiver plays.
func eventPackets(ev uint8, clock uint32) [][]byte {
	step := uint16(clock / 50) // 20 ms
	out := make([][]byte, 0, eventSteps+eventEnds)
	for i := 1; i <= eventSteps; i++ {
		out = append(out, telephoneEvent{event: ev, volume: 10, duration: step * uint16(i)}.appendTo(nil))
	}
	for range eventEnds {
		out = append(out, telephoneEvent{event: ev, end: true, volume: 10, duration: step * eventSteps}.appendTo(nil))
	}
	return out
}
