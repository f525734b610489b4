package sipbridge

import (
	"context"
	"io"
	"testing"

	"github.com/pion/rtp"
)

// pktChannel is a channel whose ReadRTP returns queued packets, then EOF.
type pktChannel struct {
	c    rtpCodec
	pkts []rtp.Packet
}

func (p *pktChannel) Codec() rtpCodec { return p.c }
func (p *pktChannel) CallID() string  { return "" }
func (p *pktChannel) ReadRTP(_ []byte, out *rtp.Packet) error {
	if len(p.pkts) == 0 {
		return io.EOF
	}
	*out, p.pkts = p.pkts[0], p.pkts[1:]
	return nil
}
func (p *pktChannel) WriteRTP(*rtp.Packet) error    { return nil }
func (p *pktChannel) Hangup(context.Context) error  { return nil }
func (p *pktChannel) Done() <-chan struct{}         { return nil }
func (p *pktChannel) Direction() string             { return dirSendRecv }
func (p *pktChannel) Changed() <-chan struct{}      { return nil }
func (p *pktChannel) Close() error                  { return nil }
func (p *pktChannel) OnPeerReport(func(peerReport)) {}

// typed returns telephone-event packets for digits (one event each, its
// end sent three times) with audio packets in between.
func typed(c rtpCodec, digits string) []rtp.Packet {
	var out []rtp.Packet
	for i := range len(digits) {
		ev, _ := eventOf(digits[i])
		ts := uint32(1000 + 800*i)
		for k := range 5 {
			e := DTMFEvent{Event: ev, Volume: 10, Duration: uint16(160 * (k + 1)), End: k >= 2}
			b := make([]byte, 4)
			e.MarshalTo(b)
			out = append(out, rtp.Packet{Header: rtp.Header{PayloadType: c.DTMFType, Timestamp: ts}, Payload: b})
		}
		out = append(out, rtp.Packet{Header: rtp.Header{PayloadType: c.PayloadType, Timestamp: ts}, Payload: []byte{0xff, 0xff}})
	}
	return out
}

// readPINs sends each entry ended by '#': '*' starts over, audio is
// ignored, an entry longer than maxPINDigits is never a PIN; a false
// verdict stops the reader.
func TestReadPINs(t *testing.T) {
	c := rtpCodec{PayloadType: 0, ClockRate: 8000, DTMF: true, DTMFType: 101}
	long := ""
	for range maxPINDigits + 5 {
		long += "7"
	}
	ch := &pktChannel{c: c, pkts: typed(c, "12*34#"+long+"#5#99#")}
	entries, verdict := make(chan string), make(chan bool)
	done := make(chan error, 1)
	go func() { done <- readPINs(ch, entries, verdict) }()
	for i, want := range []string{"34", "#", "5"} {
		if got := <-entries; got != want {
			t.Fatalf("entry %d = %q, want %q", i, got, want)
		}
		verdict <- i < 2 // stop after "5"
	}
	if err := <-done; err != nil {
		t.Fatalf("reader stopped by the verdict returned %v", err)
	}
	if len(ch.pkts) == 0 {
		t.Error("the reader read past the entry that stopped it")
	}
}
