package sipbridge

import (
	"bytes"
	"testing"
)

// dtmfCases drive the encode/decode tests and seed the fuzz target.
var dtmfCases = []struct {
	name string
	wire []byte
	ev   DTMFEvent
}{
	{"digit 1 start", []byte{0x01, 0x0a, 0x00, 0xa0}, DTMFEvent{Event: 1, Volume: 10, Duration: 160}},
	{"pound end", []byte{0x0b, 0x8a, 0x03, 0x20}, DTMFEvent{Event: 11, End: true, Volume: 10, Duration: 800}},
	{"star max volume", []byte{0x0a, 0x3f, 0xff, 0xff}, DTMFEvent{Event: 10, Volume: 63, Duration: 65535}},
	{"D end", []byte{0x0f, 0x80, 0x00, 0x00}, DTMFEvent{Event: 15, End: true}},
}

func TestDTMFEventRoundTrip(t *testing.T) {
	for _, c := range dtmfCases {
		var e DTMFEvent
		if err := e.Unmarshal(c.wire); err != nil || e != c.ev {
			t.Errorf("%s: Unmarshal = %+v, %v; want %+v", c.name, e, err, c.ev)
		}
		b := make([]byte, c.ev.MarshalSize())
		if n, err := c.ev.MarshalTo(b); err != nil || n != 4 || !bytes.Equal(b, c.wire) {
			t.Errorf("%s: MarshalTo = % x, %v", c.name, b, err)
		}
	}
	var e DTMFEvent
	if err := e.Unmarshal([]byte{1, 2, 3}); err == nil {
		t.Error("3-byte payload accepted")
	}
	if _, err := (DTMFEvent{}).MarshalTo(make([]byte, 3)); err == nil {
		t.Error("MarshalTo a 3-byte buffer succeeded")
	}
}

// TestDTMFDetector: one digit per event whatever the retransmissions; a
// lost end still yields its digit when the next event starts.
func TestDTMFDetector(t *testing.T) {
	var d dtmfDetector
	var got []byte
	push := func(ts uint32, ev uint8, end bool) {
		b := make([]byte, 4)
		DTMFEvent{Event: ev, End: end, Volume: 10, Duration: 160}.MarshalTo(b)
		if c, ok := d.push(ts, b); ok {
			got = append(got, c)
		}
	}
	for _, ev := range []uint8{1, 2, 3, 11} {
		ts := uint32(ev) * 10000
		push(ts, ev, false)
		push(ts, ev, false)
		push(ts, ev, true)
		push(ts, ev, true)
		push(ts, ev, true)
	}
	push(90000, 4, false) // its end is lost
	push(99000, 5, false)
	push(99000, 5, true)
	if string(got) != "123#45" {
		t.Fatalf("digits = %q, want 123#45", got)
	}
}

func FuzzDTMFEvent(f *testing.F) {
	for _, c := range dtmfCases {
		f.Add(c.wire)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var e DTMFEvent
		if err := e.Unmarshal(b); err != nil {
			return
		}
		out := make([]byte, 4)
		if _, err := e.MarshalTo(out); err != nil {
			t.Fatal(err)
		}
		want := append([]byte(nil), b[:4]...)
		want[1] &^= 0x40 // the reserved bit is not kept
		if !bytes.Equal(out, want) {
			t.Fatalf("round trip % x -> % x", b[:4], out)
		}
		var d dtmfDetector
		d.push(1, b)
	})
}
