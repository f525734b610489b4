package main

import (
	"context"
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"github.com/flashvox/flashvox/bench/internal/whipload"
)

// stream is one WHIP publisher and its WHEP player.
type stream struct {
	pub    whipload.Publisher
	play   whipload.Peer
	sendNs []atomic.Int64 // by frame index: when it was written (transcoded mode)

	mu     sync.Mutex
	seen   map[uint32]bool // frame indexes received
	delays []time.Duration
	ts0    uint32
	have   bool
}

// startPlayer opens the WHEP player of s; received frames go to s.receive.
func (r *runState) startPlayer(ctx context.Context, s *stream, url string) error {
	var err error
	s.play, err = r.client.Player(ctx, r.playCodec, url, 0, func(p *rtp.Packet) { r.receive(s, p.Timestamp, p.Payload, time.Now()) })
	return err
}

// startPublisher opens the WHIP publisher of s.
func (r *runState) startPublisher(ctx context.Context, s *stream, url string) error {
	var err error
	s.pub, err = r.client.Publisher(ctx, r.pubCodec, url, 0)
	return err
}

// receive books one packet: pass-through frames say their index and send
// time in their first 12 bytes; transcoded ones are matched by their RTP
// timestamp to the frame sent at that index (the player was there before
// the publisher's first frame).
func (r *runState) receive(s *stream, ts uint32, payload []byte, now time.Time) {
	var idx uint32
	var sent int64
	if r.transcoded {
		s.mu.Lock()
		if !s.have {
			s.ts0, s.have = ts, true
		}
		idx = (ts - s.ts0) / (whipload.Caps[r.playCodec].ClockRate / 50)
		s.mu.Unlock()
		if int(idx) >= len(s.sendNs) {
			return
		}
		sent = s.sendNs[idx].Load()
	} else {
		off := 0
		if r.playCodec == "opus" {
			off = 1 // after the TOC byte
		}
		if len(payload) < off+12 {
			return
		}
		idx = binary.BigEndian.Uint32(payload[off:])
		sent = int64(binary.BigEndian.Uint64(payload[off+4:]))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen[idx] || sent == 0 {
		return
	}
	s.seen[idx] = true
	s.delays = append(s.delays, now.Sub(time.Unix(0, sent)))
}

// write sends frame n of s.
func (r *runState) write(s *stream, n uint32) {
	now := time.Now()
	var data []byte
	if r.transcoded && r.pubCodec == "opus" {
		data = r.tone[int(n)%len(r.tone)]
	} else {
		data = whipload.Stamp(r.pubCodec, n, now)
	}
	if int(n) < len(s.sendNs) {
		s.sendNs[n].Store(now.UnixNano())
	}
	if err := s.pub.WriteFrame(data); err == nil {
		r.sent.Add(1)
	}
}
