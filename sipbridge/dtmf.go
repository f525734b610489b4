package sipbridge

import "errors"

// DTMFEvent is an RFC 4733 telephone-event payload (section 2.3):
//
//	event(8) | E(1) R(1) volume(6) | duration(16)
type DTMFEvent struct {
	Event    uint8  // 0-9, 10 '*', 11 '#', 12-15 A-D
	End      bool   // the last packets of the event
	Volume   uint8  // 0..63, in -dBm0
	Duration uint16 // in RTP clock units since the event's timestamp
}

// dtmfSize is the size of a telephone-event payload.
const dtmfSize = 4

var (
	errDTMFShort  = errors.New("sip: telephone-event payload shorter than 4 bytes")
	errDTMFBuffer = errors.New("sip: buffer too short for a telephone-event payload")
)

// Unmarshal decodes the first four bytes of b; more bytes (a redundant
// RFC 2198 block, padding) are ignored.
func (e *DTMFEvent) Unmarshal(b []byte) error {
	if len(b) < dtmfSize {
		return errDTMFShort
	}
	e.Event = b[0]
	e.End = b[1]&0x80 != 0
	e.Volume = b[1] & 0x3f
	e.Duration = uint16(b[2])<<8 | uint16(b[3])
	return nil
}

// MarshalSize is 4.
func (e DTMFEvent) MarshalSize() int { return dtmfSize }

// MarshalTo writes the payload to b.
func (e DTMFEvent) MarshalTo(b []byte) (int, error) {
	if len(b) < dtmfSize {
		return 0, errDTMFBuffer
	}
	b[0] = e.Event
	b[1] = e.Volume & 0x3f
	if e.End {
		b[1] |= 0x80
	}
	b[2], b[3] = byte(e.Duration>>8), byte(e.Duration)
	return dtmfSize, nil
}

const dtmfDigits = "0123456789*#ABCD"

// digitOf is the character of event ev, ok false for non-DTMF events.
func digitOf(ev uint8) (byte, bool) {
	if int(ev) < len(dtmfDigits) {
		return dtmfDigits[ev], true
	}
	return 0, false
}

// eventOf is the event code of DTMF character d.
func eventOf(d byte) (uint8, bool) {
	for i := range len(dtmfDigits) {
		if dtmfDigits[i] == d {
			return uint8(i), true
		}
	}
	return 0, false
}

// dtmfDetector turns a stream of telephone-event packets into digits: one
// digit per event (per RTP timestamp), reported at its first end packet,
// or at its first packet of a new timestamp if the end was lost.
type dtmfDetector struct {
	ts       uint32
	seen     bool // an event with timestamp ts is in progress or done
	reported bool
	ev       uint8
}

// push takes one payload and returns a digit when one completes.
func (d *dtmfDetector) push(ts uint32, payload []byte) (byte, bool) {
	var e DTMFEvent
	if e.Unmarshal(payload) != nil {
		return 0, false
	}
	var out byte
	var ok bool
	if !d.seen || ts != d.ts {
		if d.seen && !d.reported { // the previous event lost its end packets
			out, ok = digitOf(d.ev)
		}
		d.ts, d.seen, d.reported, d.ev = ts, true, false, e.Event
	}
	if ok {
		return out, true // the next end packet (sent three times) reports this event
	}
	if e.End && !d.reported {
		d.reported = true
		return digitOf(e.Event)
	}
	return 0, false
}
