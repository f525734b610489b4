package sipbridge

import (
	"context"
	"testing"

	"github.com/pion/rtp"

	"github.com/flashvox/flashvox/codec"
)

// captureChannel is a channel that keeps what is written.
type captureChannel struct {
	channel
	pkts []rtp.Packet
}

func (c *captureChannel) WriteRTP(p *rtp.Packet) error {
	q := *p
	q.Payload = append([]byte(nil), p.Payload...)
	c.pkts = append(c.pkts, q)
	return nil
}

// TestRTPWriterDTMFClocks: a digit in a call whose audio clock is not
// telephone-event's 8000 Hz (Opus, 48 kHz) is stamped on the audio's
// clock (one RTP stream) and lasts 8 kHz units; the audio after it
// continues the clock.
func TestRTPWriterDTMFClocks(t *testing.T) {
	for _, tc := range []struct {
		id    codec.ID
		clock int
	}{{codec.Opus, 48000}, {codec.PCMU, 8000}, {codec.Speex, 16000}} {
		ch := &captureChannel{}
		w := newRTPWriter(ch, rtpCodec{ID: tc.id, PayloadType: 96, ClockRate: tc.clock, DTMF: true, DTMFType: 101}, &Stats{})
		if err := w.audio(0, []byte{1}); err != nil {
			t.Fatal(err)
		}
		if err := w.digit(context.Background(), '5'); err != nil {
			t.Fatal(err)
		}
		if err := w.audio(20, []byte{2}); err != nil {
			t.Fatal(err)
		}
		frame := uint32(tc.clock / 50)
		audio0, last := ch.pkts[0], ch.pkts[len(ch.pkts)-1]
		var ev DTMFEvent
		for _, p := range ch.pkts[1 : len(ch.pkts)-1] {
			if p.PayloadType != 101 || p.Timestamp != audio0.Timestamp+frame {
				t.Errorf("%v: event packet pt %d ts %d, want 101 at %d", tc.id, p.PayloadType, p.Timestamp, audio0.Timestamp+frame)
			}
			if err := ev.Unmarshal(p.Payload); err != nil {
				t.Fatal(err)
			}
		}
		if !ev.End || ev.Duration != dtmfPackets*dtmfClock/50 {
			t.Errorf("%v: last event %+v, want the end at %d (8 kHz units)", tc.id, ev, dtmfPackets*dtmfClock/50)
		}
		if want := audio0.Timestamp + frame*(dtmfPackets+2); last.Timestamp != want {
			t.Errorf("%v: audio after the digit at %d, want %d", tc.id, last.Timestamp, want)
		}
	}
}
