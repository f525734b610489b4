package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/codecs"
	"github.com/flashvox/flashvox/rtmp"
	"github.com/flashvox/flashvox/rtmp/message"
)

// room is one mixed room of the load: its participants and the send times
// of the markers they sent.
type room struct {
	name   string
	parts  []*participant
	mu     sync.Mutex
	bursts []burst // in send order
}

type burst struct {
	at     time.Time
	member int // index in parts
}

// participant is one phone-app connection in a room: it publishes its
// audio and plays its mix on the same connection.
type participant struct {
	idx   int
	c     *rtmp.Client
	pubID uint32
	rx    *receiver
}

// join connects user to the phone app, joins roomName forcing mixed mode,
// publishes on the member's input and plays its mix.
func join(ctx context.Context, url, user string, r *room, idx int, probe bool) (*participant, error) {
	rx := &receiver{room: r, idx: idx}
	if probe {
		dec, err := codecs.NewDecoder(codec.Speex, rate)
		if err != nil {
			return nil, err
		}
		rx.dec = dec
	}
	c, err := rtmp.Dial(ctx, url, rtmp.ClientOptions{ConnectArgs: []any{user, user}, OnMessage: rx.onMessage})
	if err != nil {
		return nil, fmt.Errorf("%s: connect: %w", user, err)
	}
	p := &participant{idx: idx, c: c, rx: rx}
	if err := p.setup(ctx, r.name); err != nil {
		c.Close()
		return nil, fmt.Errorf("%s: %w", user, err)
	}
	return p, nil
}

func (p *participant) setup(ctx context.Context, roomName string) error {
	res, err := p.c.Call(ctx, "joinConference", roomName, amf.NewObject("mode", "mixed"))
	if err != nil {
		return fmt.Errorf("joinConference: %w", err)
	}
	var j *amf.Object
	if len(res.Args) > 0 {
		j, _ = res.Args[0].(*amf.Object)
	}
	if j == nil {
		return errors.New("joinConference: no answer object")
	}
	if m := j.GetString("mode"); m != "mixed" {
		return fmt.Errorf("joinConference: room is %q, not mixed", m)
	}
	if p.pubID, err = p.c.CreateStream(ctx); err != nil {
		return err
	}
	if err := p.c.Publish(ctx, p.pubID, j.GetString("publish"), "live"); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	sid, err := p.c.CreateStream(ctx)
	if err != nil {
		return err
	}
	if err := p.c.Play(ctx, sid, j.GetString("play")); err != nil {
		return fmt.Errorf("play mix: %w", err)
	}
	return nil
}

// send replays the cycle for every participant of the room, one 20 ms
// frame each per tick (member j shifted by j slots; members from talkers
// on send silence), catching up after a late tick, until ctx ends.
func (r *room) send(ctx context.Context, start time.Time, cyc *cycle, talkers int) error {
	n := len(cyc.frames)
	t := time.NewTicker(frameMillis * time.Millisecond)
	defer t.Stop()
	done := 0
	for tick := 0; ; tick++ {
		if tick > 0 { // frame 0 goes at start, frame k at start + 20k ms
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
		}
		due := int(time.Since(start)/(frameMillis*time.Millisecond)) + 1
		for ; done < due; done++ {
			for j, p := range r.parts {
				if j >= talkers {
					if err := p.c.WriteAudio(p.pubID, uint32(done*frameMillis), cyc.silence); err != nil {
						return fmt.Errorf("room %s member %d: send: %w", r.name, j, err)
					}
					continue
				}
				k := ((done-j*slotFrames)%n + n) % n
				if k == 0 {
					r.mu.Lock()
					r.bursts = append(r.bursts, burst{at: time.Now(), member: j})
					r.mu.Unlock()
				}
				if err := p.c.WriteAudio(p.pubID, uint32(done*frameMillis), cyc.frames[k]); err != nil {
					return fmt.Errorf("room %s member %d: send: %w", r.name, j, err)
				}
			}
		}
	}
}

// lastBurst is the latest marker sent before t by a member other than
// self, or false.
func (r *room) lastBurst(t time.Time, self int) (burst, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.bursts) - 1; i >= 0; i-- {
		b := r.bursts[i]
		if b.at.After(t) {
			continue
		}
		if b.member == self {
			return burst{}, false // our own marker is not in our mix: nothing to match
		}
		return b, true
	}
	return burst{}, false
}

// receiver keeps the arrival of every mix frame a participant gets; a
// probe also decodes the mix and times the markers' onsets.
type receiver struct {
	room *room
	idx  int

	mu      sync.Mutex
	arrival []int64  // unix µs
	ts      []uint32 // RTMP timestamps, ms
	// Probe only.
	dec       codec.Decoder
	det       onsetDetector
	pcm       []int16
	onsets    []onset
	unmatched int
}

type onset struct {
	at      time.Time // arrival of the frame holding it
	latency time.Duration
}

func (rx *receiver) onMessage(m *message.Message) {
	if m.Type != message.TypeAudio || len(m.Payload) < 2 {
		return
	}
	now := time.Now()
	rx.mu.Lock()
	defer rx.mu.Unlock()
	rx.arrival = append(rx.arrival, now.UnixMicro())
	rx.ts = append(rx.ts, m.Timestamp)
	if rx.dec == nil {
		return
	}
	var err error
	rx.pcm, err = rx.dec.Decode(rx.pcm[:0], m.Payload[1:])
	if err != nil || len(rx.pcm) == 0 {
		return
	}
	for k := 0; k+frameSamples <= len(rx.pcm); k += frameSamples {
		i := rx.det.feed(rx.pcm[k : k+frameSamples])
		if i < 0 {
			continue
		}
		// The onset sample plays (k+i)/16 ms into the packet; the marker's
		// onset was sample 0 of the frame sent at b.at.
		b, ok := rx.room.lastBurst(now, rx.idx)
		if !ok {
			rx.unmatched++
			continue
		}
		lat := now.Sub(b.at) + time.Duration(k+i)*time.Second/rate
		if lat > slotFrames*frameMillis*time.Millisecond/2 {
			rx.unmatched++ // too late to attribute surely
			continue
		}
		rx.onsets = append(rx.onsets, onset{at: now, latency: lat})
	}
}

// frameStats are what a receiver saw within a window.
type frameStats struct {
	frames  int // mix frames received
	missing int // frames absent from the timestamp sequence
	stalls  int // times a listener with a playout buffer of lateAfter ran dry
}

// window counts the frames that arrived in [from, to). missing = gaps in
// timestamps beyond one frame; stalls = underruns of a listener that plays
// each frame at its timestamp's pace plus lateAfter of buffer, anchored on
// the earliest frame, and re-buffers (lateAfter again) after each underrun,
// as a player does: a mix that falls behind once is one stall, not every
// later frame.
func (rx *receiver) window(from, to time.Time, lateAfter time.Duration) frameStats {
	rx.mu.Lock()
	defer rx.mu.Unlock()
	lo, hi := from.UnixMicro(), to.UnixMicro()
	var st frameStats
	var offs []int64 // arrival − timestamp, µs
	var prev uint32
	for i, a := range rx.arrival {
		if a < lo || a >= hi {
			continue
		}
		ts := rx.ts[i]
		if st.frames > 0 {
			if gap := int64(int32(ts - prev)); gap > frameMillis*3/2 {
				st.missing += int((gap+frameMillis/2)/frameMillis) - 1
			}
		}
		st.frames++
		prev = ts
		offs = append(offs, a-int64(ts)*1000)
	}
	if len(offs) == 0 {
		return st
	}
	buffer := lateAfter.Microseconds()
	play := slices.Min(offs) + buffer // a frame plays at its timestamp + play
	for _, o := range offs {
		if o > play {
			st.stalls++
			play = o + buffer
		}
	}
	return st
}

// latencies are the probe's marker latencies measured within [from, to).
func (rx *receiver) latencies(from, to time.Time) (lat []time.Duration, unmatched int) {
	rx.mu.Lock()
	defer rx.mu.Unlock()
	for _, o := range rx.onsets {
		if !o.at.Before(from) && o.at.Before(to) {
			lat = append(lat, o.latency)
		}
	}
	return lat, rx.unmatched
}

func (rx *receiver) close() {
	rx.mu.Lock()
	defer rx.mu.Unlock()
	closeCodec(rx.dec)
	rx.dec = nil
}

// relayProbe is one publisher and one player of a plain /live stream in the
// same run: the delay of the RTMP path alone (network, server relay,
// client scheduling) under the same load, subtracted from the mix latency.
type relayProbe struct {
	pub, sub *rtmp.Client
	pubID    uint32
	mu       sync.Mutex
	delays   []onset
}

func startRelayProbe(ctx context.Context, addr string) (*relayProbe, error) {
	url := "rtmp://" + addr + "/live"
	rp := &relayProbe{}
	sub, err := rtmp.Dial(ctx, url, rtmp.ClientOptions{OnMessage: rp.onMessage})
	if err != nil {
		return nil, fmt.Errorf("relay probe: %w", err)
	}
	rp.sub = sub
	pub, err := rtmp.Dial(ctx, url, rtmp.ClientOptions{})
	if err != nil {
		sub.Close()
		return nil, fmt.Errorf("relay probe: %w", err)
	}
	rp.pub = pub
	if rp.pubID, err = pub.CreateStream(ctx); err == nil {
		err = pub.Publish(ctx, rp.pubID, "bench-relay-probe", "live")
	}
	if err == nil {
		var sid uint32
		if sid, err = sub.CreateStream(ctx); err == nil {
			err = sub.Play(ctx, sid, "bench-relay-probe")
		}
	}
	if err != nil {
		rp.close()
		return nil, fmt.Errorf("relay probe: %w", err)
	}
	return rp, nil
}

func (rp *relayProbe) onMessage(m *message.Message) {
	if m.Type != message.TypeAudio || len(m.Payload) < 9 {
		return
	}
	now := time.Now()
	sent := time.Unix(0, int64(binary.BigEndian.Uint64(m.Payload[1:])))
	rp.mu.Lock()
	rp.delays = append(rp.delays, onset{at: now, latency: now.Sub(sent)})
	rp.mu.Unlock()
}

// run sends a Speex-sized frame carrying its send time every 20 ms.
func (rp *relayProbe) run(ctx context.Context) {
	t := time.NewTicker(frameMillis * time.Millisecond)
	defer t.Stop()
	for n := uint32(0); ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		p := make([]byte, 71)
		p[0] = flvSpeex
		binary.BigEndian.PutUint64(p[1:], uint64(time.Now().UnixNano()))
		if rp.pub.WriteAudio(rp.pubID, n*frameMillis, p) != nil {
			return
		}
	}
}

func (rp *relayProbe) window(from, to time.Time) []time.Duration {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	var out []time.Duration
	for _, d := range rp.delays {
		if !d.at.Before(from) && d.at.Before(to) {
			out = append(out, d.latency)
		}
	}
	return out
}

func (rp *relayProbe) close() {
	if rp.pub != nil {
		rp.pub.Close()
	}
	if rp.sub != nil {
		rp.sub.Close()
	}
}
