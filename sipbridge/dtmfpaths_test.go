package sipbridge

import (
	"log/slog"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/media"
)

func TestDigitPaths(t *testing.T) {
	t0 := time.Unix(1000, 0)
	type in struct {
		path int
		d    byte
		ms   int
		send bool
	}
	for _, tc := range []struct {
		name string
		seq  []in
	}{
		{"event then its frame", []in{{pathEvent, '5', 0, true}, {pathFrame, '5', 80, false}}},
		{"frame then its event", []in{{pathFrame, '5', 0, true}, {pathEvent, '5', 30, false}}},
		{"a key pressed twice, both paths", []in{{pathEvent, '1', 0, true}, {pathFrame, '1', 20, false}, {pathEvent, '1', 300, true}, {pathFrame, '1', 320, false}}},
		{"one path only (a WHIP client, no page)", []in{{pathFrame, '1', 0, true}, {pathFrame, '1', 200, true}, {pathFrame, '2', 400, true}}},
		{"a copy lost on one path", []in{{pathEvent, '1', 0, true}, {pathEvent, '2', 200, true}, {pathFrame, '2', 220, false}, {pathFrame, '3', 400, true}, {pathEvent, '3', 410, false}}},
		{"a copy later than the window is sent again", []in{{pathEvent, '9', 0, true}, {pathFrame, '9', 1500, true}}},
		{"another digit is no copy", []in{{pathEvent, '4', 0, true}, {pathFrame, '6', 10, true}}},
	} {
		var p digitPaths
		for i, x := range tc.seq {
			if got := p.send(x.path, x.d, t0.Add(time.Duration(x.ms)*time.Millisecond)); got != x.send {
				t.Errorf("%s: step %d (%c on path %d at %d ms): send %v, want %v", tc.name, i, x.d, x.path, x.ms, got, x.send)
			}
		}
	}
}

// A flood of digits on one path keeps at most maxUnpaired waiting.
func TestDigitPathsBounded(t *testing.T) {
	var p digitPaths
	now := time.Unix(1000, 0)
	for range 10 * maxUnpaired {
		p.send(pathFrame, '1', now)
	}
	if n := len(p.unpaired[pathFrame]); n != maxUnpaired {
		t.Fatalf("%d unpaired digits kept, want %d", n, maxUnpaired)
	}
}

// A SIP leg sends a web user's digit once when it comes both as a call
// event and as a KindDTMF frame (the page), and a digit that only comes
// as a frame (a WHIP client without the page) too.
func TestLegSendsFrameDigitsOnce(t *testing.T) {
	ch := &captureChannel{}
	st := &Stats{}
	h := media.NewHub(64, nil)
	m := &mediaBridge{ch: ch, hub: h, stats: st, log: slog.New(slog.DiscardHandler), dtmf: make(chan string, 8)}
	c := rtpCodec{ID: codec.PCMU, PayloadType: 0, ClockRate: 8000, DTMF: true, DTMFType: 101}
	out := newLegOut(m, c)
	q := out.in // frames as the hub hands them over
	stop := runLeg(t, out)
	perDigit := uint64(dtmfPackets + 3)
	m.dtmf <- "7"
	testwait.For(t, 5*time.Second, "the event's digit sent", func() bool { return st.RTPOut.Load() == perDigit })
	q.Receive(&media.Frame{Kind: media.KindDTMF, Payload: []byte{'7'}}) // its copy
	q.Receive(&media.Frame{Kind: media.KindDTMF, Payload: []byte{'8'}}) // a frame only
	q.Receive(&media.Frame{Kind: media.KindAudio, Codec: codec.PCMU, Rate: 8000, Payload: make([]byte, 160)})
	testwait.For(t, 5*time.Second, "the audio after the digits sent", func() bool {
		return st.FramesPassedThrough.Load() == 1
	})
	stop()
	var digits []byte
	for _, p := range ch.pkts {
		if p.PayloadType == 101 && p.Marker {
			digits = append(digits, dtmfDigits[p.Payload[0]])
		}
	}
	if string(digits) != "78" {
		t.Errorf("digits sent %q, want \"78\"", digits)
	}
}

// The SIP peer's RFC 4733 digit is told to the call (onDTMF) and put on
// its stream as a KindDTMF frame, for WebRTC players.
func TestRTPInPublishesDigits(t *testing.T) {
	h := media.NewHub(64, nil)
	pub, err := h.Publish("sip/a")
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	q := h.NewQueue(0)
	defer h.Subscribe("sip/a", q).Close()
	var told []byte
	r := &rtpIn{c: rtpCodec{ID: codec.PCMU, PayloadType: 0, ClockRate: 8000, DTMF: true, DTMFType: 101}, rate: 8000, pub: pub,
		onDTMF: func(d byte) { told = append(told, d) }, log: slog.New(slog.DiscardHandler)}
	r.deliver(&rtp.Packet{Header: rtp.Header{PayloadType: 0, Timestamp: 1000}, Payload: make([]byte, 160)})
	for i := range 3 {
		ev := DTMFEvent{Event: 3, End: i == 2, Volume: 10, Duration: uint16(160 * (i + 1))}
		b := make([]byte, dtmfSize)
		if _, err := ev.MarshalTo(b); err != nil {
			t.Fatal(err)
		}
		r.deliver(&rtp.Packet{Header: rtp.Header{PayloadType: 101, Timestamp: 1160}, Payload: b})
	}
	if string(told) != "3" {
		t.Fatalf("onDTMF told %q, want \"3\"", told)
	}
	var got *media.Frame
	for f := q.TryNext(); f != nil; f = q.TryNext() {
		if f.Kind == media.KindDTMF {
			if got != nil {
				t.Fatal("two DTMF frames for one digit")
			}
			got = f
		}
	}
	if got == nil || string(got.Payload) != "3" || got.Timestamp != 20 {
		t.Fatalf("DTMF frame %+v, want digit 3 at 20 ms", got)
	}
}
