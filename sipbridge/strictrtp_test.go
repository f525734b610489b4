package sipbridge

import (
	"log/slog"
	"net"
	"sync/atomic"
	"testing"

	"github.com/pion/rtp"

	dmedia "github.com/emiago/diago/media"
)

// TestRTPGuard: which packets a call takes and where it sends, packet by
// packet, for the cases strict RTP decides (strictrtp.go).
func TestRTPGuard(t *testing.T) {
	phone := &net.UDPAddr{IP: net.IPv4(10, 0, 0, 5), Port: 4000}     // the SDP's address
	nat := &net.UDPAddr{IP: net.IPv4(203, 0, 113, 7), Port: 61000}   // where a NATed phone's packets come from
	stranger := &net.UDPAddr{IP: net.IPv4(198, 51, 100, 9), Port: 5} // anyone else
	type pkt struct {
		from *net.UDPAddr
		pt   uint8
		ssrc uint32
		seq  uint16
		want bool
	}
	audio := func(from *net.UDPAddr, ssrc uint32, seq uint16, want bool) pkt { return pkt{from, 0, ssrc, seq, want} }
	seqRun := func(from *net.UDPAddr, ssrc uint32, seq0 uint16, n int, firstTaken int) []pkt {
		var out []pkt
		for i := range n {
			out = append(out, audio(from, ssrc, seq0+uint16(i), i >= firstTaken))
		}
		return out
	}
	cat := func(parts ...[]pkt) []pkt {
		var out []pkt
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	for _, c := range []struct {
		name string
		pkts []pkt
		to   *net.UDPAddr // where the call sends at the end
		drop uint64       // counted as from a wrong source
	}{
		{"the SDP's address is taken at once; a stranger then is dropped",
			cat(seqRun(phone, 1, 10, 3, 0), seqRun(stranger, 9, 1, 6, 99), seqRun(phone, 1, 13, 2, 0)), phone, 6},
		{"a NATed phone is learnt after 4 in a row, then strangers are dropped",
			cat(seqRun(nat, 1, 10, 6, 3), seqRun(stranger, 9, 1, 6, 99)), nat, 6},
		{"a stranger first, with a valid run, is learnt: the SDP's address still wins",
			cat(seqRun(stranger, 9, 1, 5, 3), seqRun(phone, 1, 10, 2, 0), seqRun(stranger, 9, 6, 2, 99)), phone, 2},
		{"learning restarts on a gap, another SSRC or another source",
			cat([]pkt{audio(nat, 1, 10, false), audio(nat, 1, 11, false), audio(nat, 1, 13, false), audio(nat, 2, 14, false),
				audio(stranger, 2, 15, false), audio(nat, 2, 16, false), audio(nat, 2, 17, false), audio(nat, 2, 18, false), audio(nat, 2, 19, true)}), nat, 0},
		{"RTCP and other payload types never lock a source",
			cat([]pkt{{nat, 72, 1, 1, false}, {nat, 72, 1, 2, false}, {nat, 72, 1, 3, false}, {nat, 72, 1, 4, false}, {nat, 72, 1, 5, false},
				{nat, 96, 1, 6, false}, {nat, 101, 1, 7, false}, {nat, 101, 1, 8, false}, {nat, 101, 1, 9, false}, {nat, 0, 1, 10, true}}), nat, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			var dropped atomic.Uint64
			g := newRTPGuard(rtpCodec{PayloadType: 0, DTMF: true, DTMFType: 101}, &dropped, slog.New(slog.DiscardHandler))
			s := &dmedia.MediaSession{Raddr: *phone}
			for i, p := range c.pkts {
				got := g.admit(s, p.from, &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: p.pt, SSRC: p.ssrc, SequenceNumber: p.seq}})
				if got != p.want {
					t.Errorf("packet %d (from %v, pt %d, ssrc %d, seq %d): taken %v, want %v", i, p.from, p.pt, p.ssrc, p.seq, got, p.want)
				}
			}
			g.route(s)
			if !sameUDPAddr(&s.Raddr, c.to) {
				t.Errorf("sends to %v, want %v", &s.Raddr, c.to)
			}
			if n := dropped.Load(); n != c.drop {
				t.Errorf("%d counted from a wrong source, want %d", n, c.drop)
			}
		})
	}

	// A re-INVITE naming the same address keeps the learnt source; one
	// naming another learns again.
	var dropped atomic.Uint64
	g := newRTPGuard(rtpCodec{PayloadType: 0}, &dropped, slog.New(slog.DiscardHandler))
	s1 := &dmedia.MediaSession{Raddr: *phone}
	for i := range 4 {
		g.admit(s1, nat, &rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 1, SequenceNumber: uint16(i)}})
	}
	s2 := &dmedia.MediaSession{Raddr: *phone}
	if !g.admit(s2, nat, &rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 1, SequenceNumber: 4}}) {
		t.Error("a re-INVITE naming the same address dropped the learnt source")
	}
	g.route(s2)
	if !sameUDPAddr(&s2.Raddr, nat) {
		t.Errorf("after a re-INVITE naming the same address: sends to %v, want %v", &s2.Raddr, nat)
	}
	moved := &net.UDPAddr{IP: net.IPv4(10, 0, 0, 6), Port: 4002}
	s3 := &dmedia.MediaSession{Raddr: *moved}
	if g.admit(s3, nat, &rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 1, SequenceNumber: 5}}) {
		t.Error("a re-INVITE naming another address kept the old learnt source")
	}
	g.route(s3)
	if !sameUDPAddr(&s3.Raddr, moved) {
		t.Errorf("after a re-INVITE naming %v: sends to %v", moved, &s3.Raddr)
	}
}
