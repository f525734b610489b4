package main

import (
	"testing"
	"time"

	"github.com/flashvox/flashvox/bench/internal/whipload"
)

// TestLegReceive: pass-through frames are booked by the index they
// carry (once each, late or repeated ones too), transcoded ones by RTP
// timestamp from the first; short payloads and indexes past the run are
// ignored.
func TestLegReceive(t *testing.T) {
	t0 := time.Unix(100, 0)
	for _, codec := range []string{"pcmu", "opus"} {
		l := newLeg(4, 160)
		for i := range 4 {
			l.sendNs[i].Store(t0.Add(time.Duration(i) * 20 * time.Millisecond).UnixNano())
		}
		for _, n := range []uint32{0, 2, 2, 3, 9} {
			l.receive(true, codec, 0, whipload.Stamp(codec, n, t0), t0.Add(time.Second))
		}
		l.receive(true, codec, 0, []byte{1, 2, 3}, t0)
		s := summarize([]*leg{l}, 4)
		if s.expected != 4 || s.received != 3 {
			t.Errorf("%s: %+v, want 3 of 4 received", codec, s)
		}
	}
	l := newLeg(3, 960)
	for i := range 3 {
		l.sendNs[i].Store(t0.UnixNano())
	}
	for _, ts := range []uint32{5000, 5000 + 960, 5000 + 5*960} {
		l.receive(false, "opus", ts, []byte{0xF8}, t0.Add(20*time.Millisecond))
	}
	if s := summarize([]*leg{l}, 3); s.expected != 3 || s.received != 2 {
		t.Errorf("transcoded: %+v, want 2 of 3 (frame 5 is past the run)", s)
	}
}

func TestAnswerAddr(t *testing.T) {
	for body, want := range map[string]string{
		"v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\n": "127.0.0.1:4000",
		"c=IN IP4 10.0.0.1\nm=audio 70000 RTP/AVP 0\n":            "",
		"m=audio 4000 RTP/AVP 0\r\n":                              "",
		"c=IN IP4 127.0.0.1\r\nm=audio\r\n":                       "",
	} {
		a, err := answerAddr([]byte(body))
		got := ""
		if err == nil {
			got = a.String()
		}
		if got != want {
			t.Errorf("%q: %q %v, want %q", body, got, err, want)
		}
	}
}

// FuzzAnswerAddr: any answer body gives an address with a valid port
// or an error, never a panic.
func FuzzAnswerAddr(f *testing.F) {
	f.Add([]byte("c=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\n"))
	f.Add([]byte("m=audio -1\nc=IN IP4 ::1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if a, err := answerAddr(b); err == nil && (a.Port <= 0 || a.Port > 65535 || a.IP == nil) {
			t.Fatalf("%q: %v", b, a)
		}
	})
}
