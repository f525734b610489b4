package app

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/conference"
	"github.com/flashvox/flashvox/sipbridge"
	"github.com/flashvox/flashvox/store"
)

// maxQueuedCDRs bounds the records waiting for the store (a database
// down for a long while): past it the oldest are dropped, counted and
// logged.
const maxQueuedCDRs = 100_000

// cdrWriter writes a call detail record for every call that ends. The call
// service hands records over with its lock held (call.Recorder), so they
// are queued and written by one goroutine, in batches; close writes what
// is queued (the calls that SIGTERM ended) before the store closes.
type cdrWriter struct {
	db  *store.DB
	log *slog.Logger

	// meter counts the bytes and codecs of call streams (nil: none).
	meter *streamMeter
	// rec records calls (nil: call.record off); finish names the file.
	rec *callRecorder

	// callOf names the call of a WebRTC session's stream (cdr_webrtc.go).
	callOf callByStream

	mu      sync.Mutex
	queue   []pendingCDR
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	Written atomic.Uint64 // records in the store
	Dropped atomic.Uint64 // records lost: queue full, or the store failed at close
}

// pendingCDR is a record waiting for the store, a call's or a
// membership's, and the hub keys its bytes and codecs are metered under
// (taken by the writer, not under the call or conference lock).
type pendingCDR struct {
	call    *store.CDR
	member  *store.Membership
	leg     *store.SIPLeg
	rtc     *store.WebRTCSession
	streams [2]string
}

// newCDRWriter starts the writer; nil without a store (no records).
// meter may be nil (no bytes or codecs in the records).
// rec may be nil (calls not recorded).
func newCDRWriter(db *store.DB, meter *streamMeter, rec *callRecorder, log *slog.Logger) *cdrWriter {
	if db == nil {
		return nil
	}
	w := &cdrWriter{db: db, meter: meter, rec: rec, log: log, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go w.run()
	return w
}

// recorder is w as the call service's Recorder (a nil interface without a store).
func (w *cdrWriter) recorder() call.Recorder {
	if w == nil {
		return nil
	}
	return w
}

// CallEnded queues r's record. It never blocks.
func (w *cdrWriter) CallEnded(r call.Record) {
	c := store.CDR{ID: r.Call, Caller: r.From, Callee: r.To, CallerTransport: r.FromKind, CalleeTransport: r.ToKind,
		CallerCodec: r.P2PCodec, CalleeCodec: r.P2PCodec, // a page pair's p2p codec; relayed calls: metered
		Mode: r.Mode, FellBack: r.FellBack, Started: r.Started, Answered: r.Answered, Ended: r.Ended,
		EndEvent: r.Event, Reason: r.Reason, EndedBy: r.By}
	w.callOf.note(r.Call, r.Streams, r.Ended)
	w.enqueue(pendingCDR{call: &c, streams: r.Streams})
}

// CallAnswered starts the call's recording (call.record: all) and notes
// its streams for its pages' WebRTC sessions. It never blocks.
func (w *cdrWriter) CallAnswered(id string, streams [2]string) {
	w.callOf.note(id, streams, time.Time{})
	w.rec.start(id, streams)
}

// enqueue adds p and wakes the writer; it never blocks.
func (w *cdrWriter) enqueue(p pendingCDR) {
	w.mu.Lock()
	if len(w.queue) >= maxQueuedCDRs {
		w.lost(w.queue[:1])
		w.queue = w.queue[1:]
		w.Dropped.Add(1)
	}
	w.queue = append(w.queue, p)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// lost ends the recordings of records that will never be written (their
// files stay, complete; nothing names them). It never blocks: finish runs
// on goroutines of their own.
func (w *cdrWriter) lost(ps []pendingCDR) {
	for _, p := range ps {
		if p.call != nil && w.rec != nil {
			go w.rec.finish(p.call.ID)
		}
	}
}

// memberRecorder is w as the conference service's Recorder (a nil
// interface without a store).
func (w *cdrWriter) memberRecorder() conference.Recorder {
	if w == nil {
		return nil
	}
	return memberRecords{w}
}

// legRecorder is w as the SIP bridge's LegRecorder (a nil interface
// without a store).
func (w *cdrWriter) legRecorder() sipbridge.LegRecorder {
	if w == nil {
		return nil
	}
	return legRecords{w}
}

// legRecords receives SIP legs for w.
type legRecords struct{ w *cdrWriter }

// LegEnded queues the leg's record. It never blocks.
func (l legRecords) LegEnded(r sipbridge.LegRecord) {
	loss, jitter := r.LossPct(), r.JitterMS
	in, out := r.BytesIn, r.BytesOut
	leg := &store.SIPLeg{ID: r.Call + "-" + r.SIPCallID, CallID: r.Call, SIPCallID: r.SIPCallID, Direction: r.Direction,
		Peer: r.Peer, Party: r.Party, Codec: r.Codec, Started: r.Started, Answered: r.Answered, Ended: r.Ended, Reason: r.Reason,
		BytesIn: &in, BytesOut: &out, LossPct: &loss, JitterMS: &jitter}
	if v, ok := r.LossOutPct(); ok {
		leg.LossOutPct = &v
	}
	if r.RTT > 0 {
		leg.RTTMS = millis(r.RTT)
	}
	l.w.enqueue(pendingCDR{leg: leg})
}

// memberRecords receives conference memberships for w.
type memberRecords struct{ w *cdrWriter }

// MemberJoined has the member's stream metered. It never blocks.
func (m memberRecords) MemberJoined(r conference.MemberRecord) { m.w.meter.expect(r.Publish) }

// MemberLeft queues the membership's record. It never blocks.
func (m memberRecords) MemberLeft(r conference.MemberRecord) {
	// A member id is short and unique only in its room while it lasts.
	id := fmt.Sprintf("%s-%s-%d", r.Room, r.Member, r.Joined.UnixMilli())
	m.w.enqueue(pendingCDR{member: &store.Membership{ID: id, Room: r.Room, Member: r.User, Transport: r.Transport,
		Joined: r.Joined, Left: r.Left, Reason: r.Reason}, streams: [2]string{r.Publish}})
}

// run writes batches until stop, then what is left.
func (w *cdrWriter) run() {
	defer close(w.done)
	for {
		select {
		case <-w.wake:
			w.flush(false)
		case <-w.stop:
			w.flush(true)
			return
		}
	}
}

// flush writes the queue in batches. A failed batch goes back to the
// head of the queue and is retried a second later; when closing it is
// dropped and counted.
func (w *cdrWriter) flush(closing bool) {
	for {
		w.mu.Lock()
		n := min(len(w.queue), 500)
		batch := w.queue[:n:n]
		w.queue = w.queue[n:]
		w.mu.Unlock()
		if n == 0 {
			return
		}
		err := w.write(batch)
		switch {
		case err == nil:
			w.Written.Add(uint64(n))
			continue
		case closing:
			w.log.Error("call records lost: the store failed at shutdown", "records", n, "err", err)
			w.lost(batch)
			w.Dropped.Add(uint64(n))
			continue
		}
		w.log.Warn("call records not written yet, retrying", "records", n, "err", err)
		w.mu.Lock()
		w.queue = append(batch, w.queue...)
		if extra := len(w.queue) - maxQueuedCDRs; extra > 0 {
			w.lost(w.queue[:extra])
			w.queue = w.queue[extra:]
			w.Dropped.Add(uint64(extra))
		}
		w.mu.Unlock()
		select {
		case <-time.After(time.Second):
		case <-w.stop:
			closing = true
		}
	}
}

// write stores a batch: its call records, then its memberships, SIP legs
// and WebRTC sessions (a retry after a failure between two writes writes
// nothing twice: ids are kept once).
func (w *cdrWriter) write(batch []pendingCDR) error {
	var cs []store.CDR
	var ms []store.Membership
	var ls []store.SIPLeg
	var rs []store.WebRTCSession
	for i := range batch {
		w.metered(&batch[i])
		switch p := batch[i]; {
		case p.call != nil:
			cs = append(cs, *p.call)
		case p.member != nil:
			ms = append(ms, *p.member)
		case p.rtc != nil:
			rs = append(rs, *p.rtc)
		default:
			ls = append(ls, *p.leg)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if len(cs) > 0 {
		if err := w.db.AddCDRs(ctx, cs); err != nil {
			return err
		}
	}
	if len(ms) > 0 {
		if err := w.db.AddMemberships(ctx, ms); err != nil {
			return err
		}
	}
	if len(ls) > 0 {
		if err := w.db.AddSIPLegs(ctx, ls); err != nil {
			return err
		}
	}
	if len(rs) > 0 {
		return w.db.AddWebRTCSessions(ctx, rs)
	}
	return nil
}

// metered fills p's bytes and codecs from the meter, once.
func (w *cdrWriter) metered(p *pendingCDR) {
	streams := p.streams
	p.streams = [2]string{}
	if p.leg != nil || p.rtc != nil {
		return
	}
	if m := p.member; m != nil {
		if got := w.meter.take(streams[0]); got.known {
			m.Bytes, m.Codec = &got.bytes, got.codec
		}
		return
	}
	c := p.call
	if path := w.rec.finish(c.ID); path != "" { // waits for the file to be complete; "" on a retry
		c.Recording = path
	}
	for i, dst := range []struct {
		bytes **int64
		codec *string
	}{{&c.CallerBytes, &c.CallerCodec}, {&c.CalleeBytes, &c.CalleeCodec}} {
		m := w.meter.take(streams[i])
		if !m.known {
			continue
		}
		b := m.bytes
		*dst.bytes = &b
		if *dst.codec == "" {
			*dst.codec = m.codec
		}
	}
}

// close writes what is queued and stops the writer.
func (w *cdrWriter) close() {
	if w == nil {
		return
	}
	close(w.stop)
	<-w.done
}

// registerCDRMetrics exports the writer's counters (none without a store).
func registerCDRMetrics(reg *prometheus.Registry, w *cdrWriter) {
	if w == nil {
		return
	}
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "flashvox", Subsystem: "cdr", Name: "written_total",
			Help: "Call detail records written to the store."}, func() float64 { return float64(w.Written.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "flashvox", Subsystem: "cdr", Name: "dropped_total",
			Help: "Call detail records lost (queue full while the store failed, or the store failed at shutdown)."}, func() float64 { return float64(w.Dropped.Load()) }),
	)
	if rec := w.rec; rec != nil {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "flashvox", Subsystem: "calls", Name: "record_errors_total",
			Help: "Call recordings that failed (file not created or not written; call.record)."}, func() float64 { return float64(rec.Errors.Load()) }))
	}
}
