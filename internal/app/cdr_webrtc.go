package app

import (
	"sync"
	"time"

	"github.com/flashvox/flashvox/internal/rtcpblocks"
	"github.com/flashvox/flashvox/store"
	"github.com/flashvox/flashvox/webrtc"
)

// endedCallGrace is how long an ended call's stream keys still name it
// for the WebRTC sessions that carried it: a page closes its WHIP and
// WHEP sessions after the hang-up, so their records come after the call's.
const endedCallGrace = 2 * time.Minute

// callByStream maps the hub keys of answered calls' issued streams to the
// calls, so that a WebRTC session's record names its call. Entries of
// ended calls are dropped after endedCallGrace.
type callByStream struct {
	mu     sync.Mutex
	calls  map[string]streamCall
	keys   map[string][]string // a call's keys, so that its end covers them all
	pruned time.Time
}

type streamCall struct {
	id    string
	ended time.Time // zero while the call lasts
}

// note maps streams' non-empty keys to call id; ended (zero: not yet)
// ends every key noted for the call, whichever streams it had. Entries
// whose grace ran out are dropped.
func (c *callByStream) note(id string, streams [2]string, ended time.Time) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls == nil {
		c.calls, c.keys = map[string]streamCall{}, map[string][]string{}
	}
	for _, k := range streams {
		if k != "" && c.calls[k].id != id {
			c.keys[id] = append(c.keys[id], k)
		}
		if k != "" {
			c.calls[k] = streamCall{id: id}
		}
	}
	if !ended.IsZero() {
		for _, k := range c.keys[id] {
			if c.calls[k].id == id {
				c.calls[k] = streamCall{id: id, ended: ended}
			}
		}
		delete(c.keys, id)
	}
	if now.Sub(c.pruned) < endedCallGrace/4 {
		return
	}
	c.pruned = now
	for k, sc := range c.calls {
		if !sc.ended.IsZero() && now.Sub(sc.ended) > endedCallGrace {
			delete(c.calls, k)
		}
	}
}

// call is the call whose stream key is, "" for none.
func (c *callByStream) call(key string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[key].id
}

// webrtcRecorder is w as the WebRTC server's Recorder (a nil interface
// without a store).
func (w *cdrWriter) webrtcRecorder() webrtc.Recorder {
	if w == nil {
		return nil
	}
	return webrtcRecords{w}
}

// webrtcRecords receives WebRTC sessions for w.
type webrtcRecords struct{ w *cdrWriter }

// SessionEnded queues the session's record. It never blocks.
func (x webrtcRecords) SessionEnded(r webrtc.SessionRecord) {
	x.w.enqueue(pendingCDR{rtc: sessionRecord(r, x.w.callOf.call(r.Stream))})
}

// sessionRecord is r as the store keeps it. Loss is counted both ways
// (the browser's audio by its sequence numbers here, ours by the
// browser's reports); the jitter is that of the session's audio where it
// was received: measured here for WHIP, reported by the browser for WHEP.
func sessionRecord(r webrtc.SessionRecord, callID string) *store.WebRTCSession {
	s := &store.WebRTCSession{ID: r.ID, CallID: callID, Stream: r.Stream, Direction: "whep", Addr: r.Addr, Codec: r.Codec, Engine: r.Engine,
		Started: r.Started, Ended: r.Ended, Reason: r.Reason}
	if r.Publish {
		s.Direction = "whip"
	}
	rep := r.Reports
	if rep == nil {
		return s
	}
	in, out := int64(rep.Received), int64(rep.Sent)
	s.PacketsIn, s.PacketsOut = &in, &out
	if v, ok := rtcpblocks.LossPct(in, rep.Lost); ok {
		s.LossInPct = &v
	}
	if v, ok := rtcpblocks.PeerLossPct(int64(rep.PeerLost), out); ok && rep.PeerReports > 0 {
		s.LossOutPct = &v
	}
	switch {
	case r.Publish && in > 0:
		s.JitterMS = millis(rep.Jitter)
	case !r.Publish && rep.PeerReports > 0:
		s.JitterMS = millis(rep.PeerJitter)
	}
	if rep.RTT > 0 {
		s.RTTMS = millis(rep.RTT)
	}
	return s
}

func millis(d time.Duration) *float64 {
	v := float64(d) / float64(time.Millisecond)
	return &v
}
