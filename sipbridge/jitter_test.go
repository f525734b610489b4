package sipbridge

import (
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// arrival is one packet of a test sequence: its sequence number, when it
// arrives (ms from the start) and its SSRC (0: 1).
type arrival struct {
	seq  uint16
	at   int
	ssrc uint32
}

func TestJitterBuffer(t *testing.T) {
	const depth = 60 // ms
	tests := []struct {
		name     string
		in       []arrival
		end      int      // Expire is called at this time (ms) after the last push
		want     []uint16 // delivered, in order
		lost     uint64
		late     uint64
		dup      uint64
		heldLeft int
	}{
		{name: "in order", in: []arrival{{1, 0, 0}, {2, 20, 0}, {3, 40, 0}}, end: 40,
			want: []uint16{1, 2, 3}},
		{name: "swapped within depth", in: []arrival{{1, 0, 0}, {3, 20, 0}, {2, 30, 0}, {4, 40, 0}}, end: 40,
			want: []uint16{1, 2, 3, 4}},
		{name: "reversed burst", in: []arrival{{10, 0, 0}, {14, 5, 0}, {13, 6, 0}, {12, 7, 0}, {11, 8, 0}}, end: 8,
			want: []uint16{10, 11, 12, 13, 14}},
		{name: "duplicate delivered", in: []arrival{{1, 0, 0}, {2, 20, 0}, {2, 21, 0}, {1, 22, 0}, {3, 40, 0}}, end: 40,
			want: []uint16{1, 2, 3}, dup: 2},
		{name: "duplicate held", in: []arrival{{1, 0, 0}, {3, 20, 0}, {3, 21, 0}, {2, 30, 0}}, end: 30,
			want: []uint16{1, 2, 3}, dup: 1},
		{name: "loss skipped after depth", in: []arrival{{1, 0, 0}, {3, 40, 0}, {4, 60, 0}, {5, 80, 0}, {6, 100, 0}}, end: 100,
			want: []uint16{1, 3, 4, 5, 6}, lost: 1},
		{name: "loss still waiting", in: []arrival{{1, 0, 0}, {3, 40, 0}, {4, 60, 0}}, end: 60,
			want: []uint16{1}, heldLeft: 2},
		{name: "late after skip", in: []arrival{{1, 0, 0}, {3, 40, 0}, {4, 101, 0}, {2, 120, 0}, {5, 121, 0}}, end: 121,
			want: []uint16{1, 3, 4, 5}, lost: 1, late: 1},
		{name: "burst loss", in: []arrival{{1, 0, 0}, {7, 120, 0}, {8, 140, 0}, {9, 200, 0}}, end: 200,
			want: []uint16{1, 7, 8, 9}, lost: 5},
		{name: "wrap around", in: []arrival{{65534, 0, 0}, {0, 20, 0}, {65535, 25, 0}, {1, 40, 0}}, end: 40,
			want: []uint16{65534, 65535, 0, 1}},
		{name: "loss across wrap", in: []arrival{{65535, 0, 0}, {1, 40, 0}, {2, 200, 0}}, end: 200,
			want: []uint16{65535, 1, 2}, lost: 1},
		{name: "new SSRC restarts", in: []arrival{{100, 0, 0}, {102, 20, 0}, {5000, 40, 2}, {5001, 60, 2}}, end: 60,
			want: []uint16{100, 102, 5000, 5001}, lost: 1},
		{name: "sequence jump restarts", in: []arrival{{100, 0, 0}, {101, 20, 0}, {9000, 40, 0}, {9001, 60, 0}}, end: 60,
			want: []uint16{100, 101, 9000, 9001}},
		{name: "far ahead gives up the gap", in: []arrival{{1, 0, 0}, {100, 20, 0}}, end: 20,
			want: []uint16{1}, lost: 35, heldLeft: 1},
		{name: "later packet waited longest", in: []arrival{{1, 0, 0}, {4, 10, 0}, {3, 60, 0}}, end: 70,
			want: []uint16{1, 3, 4}, lost: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []uint16
			j := newJitterBuffer(depth*time.Millisecond, func(p *rtp.Packet) {
				if len(p.Payload) != 2 || uint16(p.Payload[0])<<8|uint16(p.Payload[1]) != p.SequenceNumber {
					t.Errorf("packet %d delivered with payload %x", p.SequenceNumber, p.Payload)
				}
				got = append(got, p.SequenceNumber)
			})
			t0 := time.Unix(0, 0)
			buf := make([]byte, 2)
			for _, a := range tc.in {
				ssrc := a.ssrc
				if ssrc == 0 {
					ssrc = 1
				}
				buf[0], buf[1] = byte(a.seq>>8), byte(a.seq)
				p := rtp.Packet{Header: rtp.Header{SequenceNumber: a.seq, SSRC: ssrc}, Payload: buf}
				j.Push(&p, t0.Add(time.Duration(a.at)*time.Millisecond))
				buf[0], buf[1] = 0xde, 0xad // a held packet must own its payload
			}
			j.Expire(t0.Add(time.Duration(tc.end) * time.Millisecond))
			if !slices.Equal(got, tc.want) {
				t.Errorf("delivered %v, want %v", got, tc.want)
			}
			if j.Lost != tc.lost || j.Late != tc.late || j.Duplicate != tc.dup {
				t.Errorf("lost %d late %d duplicate %d, want %d %d %d", j.Lost, j.Late, j.Duplicate, tc.lost, tc.late, tc.dup)
			}
			if j.Held() != tc.heldLeft {
				t.Errorf("%d packets held, want %d", j.Held(), tc.heldLeft)
			}
		})
	}
}

// TestJitterBufferBoundedWait: whatever the order, no packet is held past
// depth, and Expire says when the next one is due.
func TestJitterBufferBoundedWait(t *testing.T) {
	var got []uint16
	j := newJitterBuffer(50*time.Millisecond, func(p *rtp.Packet) { got = append(got, p.SequenceNumber) })
	t0 := time.Unix(0, 0)
	j.Push(&rtp.Packet{Header: rtp.Header{SequenceNumber: 1}}, t0)
	j.Push(&rtp.Packet{Header: rtp.Header{SequenceNumber: 3}}, t0.Add(10*time.Millisecond))
	if wait := j.Expire(t0.Add(30 * time.Millisecond)); wait != 30*time.Millisecond {
		t.Errorf("next expiry in %v, want 30ms", wait)
	}
	if wait := j.Expire(t0.Add(60 * time.Millisecond)); wait != 0 || !slices.Equal(got, []uint16{1, 3}) {
		t.Errorf("after depth: wait %v, delivered %v", wait, got)
	}
	j.Push(&rtp.Packet{Header: rtp.Header{SequenceNumber: 6}}, t0.Add(70*time.Millisecond))
	j.Flush()
	if !slices.Equal(got, []uint16{1, 3, 6}) || j.Lost != 3 || j.Held() != 0 {
		t.Errorf("flush: delivered %v, lost %d, held %d", got, j.Lost, j.Held())
	}
}

// FuzzJitterBuffer: any arrival order (byte triples: a sequence step, an
// arrival step in ms, an SSRC switch) keeps the invariants: within one
// SSRC a sequence number is delivered at most once and in increasing
// order (modulo 2^16), at most jitterSlots packets are held, nothing is
// held past depth, and every packet is delivered, lost or dropped.
func FuzzJitterBuffer(f *testing.F) {
	f.Add([]byte{1, 20, 0, 2, 20, 0, 255, 5, 0, 1, 20, 0})
	f.Add([]byte{100, 1, 0, 156, 1, 0, 1, 200, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		const depth = 60 * time.Millisecond
		var (
			last     uint16
			haveOne  bool
			ssrc     uint32 = 1
			restarts uint64
			j        *jitterBuffer
		)
		j = newJitterBuffer(depth, func(p *rtp.Packet) {
			if j.Restarts != restarts { // a new stream may start anywhere
				restarts, haveOne = j.Restarts, false
			}
			if haveOne && int16(p.SequenceNumber-last) <= 0 {
				t.Fatalf("delivered %d after %d", p.SequenceNumber, last)
			}
			last, haveOne = p.SequenceNumber, true
		})
		now := time.Unix(0, 0)
		var seq uint16
		for i := 0; i+2 < len(b); i += 3 {
			seq += uint16(int8(b[i]))
			now = now.Add(time.Duration(b[i+1]) * time.Millisecond)
			if b[i+2]&1 == 1 {
				ssrc++
			}
			j.Push(&rtp.Packet{Header: rtp.Header{SequenceNumber: seq, SSRC: ssrc}}, now)
			if j.Held() > jitterSlots {
				t.Fatalf("%d held", j.Held())
			}
			j.Expire(now.Add(depth))
			if j.Held() != 0 {
				t.Fatalf("%d packets held past depth", j.Held())
			}
		}
	})
}
