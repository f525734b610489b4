package webrtc

import (
	"bytes"
	"testing"
	"time"
)

// eventCases are telephone-event payloads and what they say.
var eventCases = []struct {
	b []byte
	e telephoneEvent
}{
	{[]byte{5, 10, 0, 160}, telephoneEvent{event: 5, volume: 10, duration: 160}},
	{[]byte{11, 0x80 | 10, 0x03, 0x20}, telephoneEvent{event: 11, end: true, volume: 10, duration: 800}},
	{[]byte{15, 63, 0xff, 0xff}, telephoneEvent{event: 15, volume: 63, duration: 0xffff}},
}

func TestTelephoneEvent(t *testing.T) {
	for _, c := range eventCases {
		var e telephoneEvent
		if err := e.unmarshal(c.b); err != nil || e != c.e {
			t.Errorf("%x: %+v %v, want %+v", c.b, e, err, c.e)
		}
		if b := c.e.appendTo(nil); !bytes.Equal(b, c.b) {
			t.Errorf("%+v: %x, want %x", c.e, b, c.b)
		}
	}
	var e telephoneEvent
	if err := e.unmarshal([]byte{1, 2, 3}); err == nil {
		t.Error("a 3-byte payload accepted")
	}
}

// TestEventDetector: one digit per event, at its first end packet (the
// repeats say nothing more), or when the next event starts if its ends
// were lost; non-digit events and short payloads are no digits.
func TestEventDetector(t *testing.T) {
	type pkt struct {
		ts uint32
		b  []byte
	}
	upd := func(ev uint8) []byte { return telephoneEvent{event: ev, duration: 160}.appendTo(nil) }
	end := func(ev uint8) []byte { return telephoneEvent{event: ev, end: true, duration: 800}.appendTo(nil) }
	for _, c := range []struct {
		name string
		in   []pkt
		want string
	}{
		{"one digit, ends repeated", []pkt{{100, upd(5)}, {100, upd(5)}, {100, end(5)}, {100, end(5)}, {100, end(5)}}, "5"},
		{"two digits", []pkt{{100, upd(1)}, {100, end(1)}, {900, upd(11)}, {900, end(11)}}, "1#"},
		{"ends lost", []pkt{{100, upd(2)}, {900, upd(3)}, {900, end(3)}}, "23"},
		{"not a digit", []pkt{{100, end(40)}}, ""},
		{"short payload", []pkt{{100, []byte{5}}}, ""},
	} {
		var d eventDetector
		var got []byte
		for _, p := range c.in {
			if digit, ok := d.push(p.ts, p.b); ok {
				got = append(got, digit)
			}
		}
		if string(got) != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// TestDigitBucket: a burst, then the rate; a flood is cut.
func TestDigitBucket(t *testing.T) {
	var b digitBucket
	now := time.Unix(1000, 0)
	n := 0
	for range 1000 { // 1000 digits in one instant
		if b.allow(now) {
			n++
		}
	}
	if n != digitBurst {
		t.Fatalf("%d digits allowed at once, want %d", n, digitBurst)
	}
	if !b.allow(now.Add(time.Second / digitRate)) {
		t.Fatal("no digit allowed after the refill time")
	}
}

func TestEventPackets(t *testing.T) {
	pkts := eventPackets(11, 8000)
	if len(pkts) != eventSteps+eventEnds {
		t.Fatalf("%d packets", len(pkts))
	}
	var e telephoneEvent
	for i, p := range pkts {
		if err := e.unmarshal(p); err != nil || e.event != 11 || e.end != (i >= eventSteps) {
			t.Fatalf("packet %d: %+v %v", i, e, err)
		}
	}
	if e.duration != 800 {
		t.Fatalf("end duration %d, want 800 (100 ms at 8 kHz)", e.duration)
	}
}

// FuzzTelephoneEvent: no payload panics the parser or the detector, and
// what parses writes back as its first four bytes.
func FuzzTelephoneEvent(f *testing.F) {
	for _, c := range eventCases {
		f.Add(c.b, uint32(100))
	}
	f.Add([]byte{}, uint32(0))
	f.Fuzz(func(t *testing.T, b []byte, ts uint32) {
		var e telephoneEvent
		if e.unmarshal(b) == nil {
			want := []byte{b[0], b[1] &^ 0x40, b[2], b[3]} // the R bit is reserved: written 0
			if !bytes.Equal(e.appendTo(nil), want) {
				t.Fatalf("%x: round trip %x", b, e.appendTo(nil))
			}
		}
		var d eventDetector
		for i := range 3 {
			if digit, ok := d.push(ts+uint32(i/2), b); ok && !bytes.ContainsRune([]byte(dtmfDigits), rune(digit)) {
				t.Fatalf("digit %q", digit)
			}
		}
	})
}
