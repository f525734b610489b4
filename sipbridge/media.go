package sipbridge

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/media"
)

// mediaBridge moves one call's audio: RTP from the SIP peer is published
// on the hub as pubKey in its own codec (the web user plays it with
// ?codec= to get it transcoded once, by the hub); the web user's stream
// playKey is subscribed transcoded to the negotiated codec and sent as RTP.
// DTMF travels as RFC 4733 events both ways.
type mediaBridge struct {
	ch  channel
	hub *media.Hub
	// pub, when set, is pubKey already published (an answered INVITE
	// publishes before its 200 OK: the ACK may take a round trip, and a
	// page's WHEP must find the stream and its codec meanwhile); run
	// takes it over and closes it.
	pub     *media.Publisher
	tc      Transcoder
	pubKey  string
	playKey string
	timeout time.Duration
	// jitter is the jitter buffer's depth: 0 DefaultJitterBuffer,
	// negative none (Options.JitterBuffer).
	jitter time.Duration
	stats  *Stats
	log    *slog.Logger
	// onDTMF is told each digit the peer sends (on the reader goroutine).
	onDTMF func(digit byte)
	// dtmf carries digits to send; the writer owns the RTP clock.
	dtmf chan string
	// answered carries playKey to an early-media bridge (started with
	// playKey "" on a 183): until then nothing is sent to the peer and
	// the RTP watchdog sleeps.
	answered chan string
	// onHold is told when the peer's re-INVITE holds (held, our direction
	// recvonly or inactive) or resumes the call (on run's goroutine).
	onHold func(held bool, dir string)
	// held: the peer holds the call; the writer sends nothing.
	held atomic.Bool
	// leg counts the leg's media for its record (legrecord.go).
	leg legCounters
}

// Frames queued from the hub to the RTP writer; a full queue drops the
// oldest, as every hub queue does (the peer's jitter buffer covers a short
// gap, and the newest audio is the one still worth sending).
const writeQueue = 50

// run moves media until ctx ends, the peer hangs up, or no RTP arrives for
// the timeout; it returns which.
func (m *mediaBridge) run(ctx context.Context) error {
	c := m.ch.Codec()
	pub := m.pub
	if pub == nil {
		var err error
		if pub, err = m.hub.Publish(m.pubKey); err != nil {
			return fmt.Errorf("sip: publish %s: %w", m.pubKey, err)
		}
	}
	defer pub.Close()
	// The codec is known from the SDP: a WebRTC player that comes before
	// the peer's first packet gets it too and passes the frames through.
	pub.DeclareAudioCodec(c.ID)
	out := newLegOut(m, c)
	defer out.close()
	m.ch.OnPeerReport(func(r peerReport) { m.peerReported(out, r) })
	defer m.ch.OnPeerReport(nil)
	if m.playKey != "" {
		out.subscribe(m.playKey)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	readErr := make(chan error, 1)
	go func() { readErr <- m.read(pub, c, &last) }()
	writeDone := make(chan struct{})
	writeErr := make(chan error, 1)
	go func() { defer close(writeDone); writeErr <- out.run(ctx) }()
	defer func() {
		cancel()
		<-writeDone
	}()

	tick := time.NewTicker(min(m.timeout/4, time.Second))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-m.ch.Done():
			return errPeerHangup
		case err := <-readErr:
			select {
			case <-m.ch.Done():
				return errPeerHangup
			default:
			}
			return fmt.Errorf("sip: rtp read: %w", err)
		case key := <-m.answered:
			m.playKey = key
			last.Store(time.Now().UnixNano())
			out.subscribe(key)
		case err := <-writeErr:
			if err != nil {
				return err
			}
		case <-m.ch.Changed():
			m.directionChanged(&last)
		case <-tick.C:
			// Ringing (early media) and hold may be silent.
			if m.playKey != "" && !m.held.Load() && time.Since(time.Unix(0, last.Load())) > m.timeout {
				return errRTPTimeout
			}
		}
	}
}

// directionChanged acts on the peer's new SDP direction: a=sendonly or
// a=inactive holds the call (we send nothing), a=sendrecv resumes it.
func (m *mediaBridge) directionChanged(last *atomic.Int64) {
	dir := m.ch.Direction()
	held := dir == dirRecvOnly || dir == dirInactive
	if m.held.Swap(held) == held {
		return
	}
	last.Store(time.Now().UnixNano())
	m.log.Info("sip call hold", "held", held, "direction", dir)
	if held {
		m.stats.Holds.Add(1)
	}
	if m.onHold != nil {
		m.onHold(held, dir)
	}
}

// read publishes the peer's audio and reports its digits until the
// channel closes. Packets go through a jitter buffer (jitter.go) that
// restores sequence order; frame timestamps follow the RTP clock from the
// first packet, converted to the hub's milliseconds here and nowhere else
// (rtpWriter.audio is the one way back). A Speex packet of several frames
// becomes one frame each.
func (m *mediaBridge) read(pub *media.Publisher, c rtpCodec, last *atomic.Int64) error {
	in, ok := codec.Lookup(c.ID)
	if !ok {
		return fmt.Errorf("sip: codec %d", c.ID)
	}
	frames := &rtpIn{c: c, rate: in.SampleRate, pub: pub, onDTMF: m.onDTMF, log: m.log}
	// mu serializes the jitter buffer between this goroutine and its timer.
	var mu sync.Mutex
	depth := m.jitter
	switch {
	case depth == 0:
		depth = DefaultJitterBuffer
	case depth < 0:
		depth = 0
	}
	jb := newJitterBuffer(depth, frames.deliver)
	var lost uint64 // jb.Lost already counted in Stats.RTPLost
	countLost := func() {
		m.stats.RTPLost.Add(jb.Lost - lost)
		m.leg.lost.Add(jb.Lost - lost)
		lost = jb.Lost
	}
	var timer *time.Timer
	expire := func() {
		mu.Lock()
		defer mu.Unlock()
		if wait := jb.Expire(time.Now()); wait > 0 {
			timer.Reset(wait)
		}
		countLost()
	}
	timer = time.AfterFunc(time.Hour, expire)
	timer.Stop()
	defer func() {
		timer.Stop()
		mu.Lock()
		jb.Flush()
		countLost()
		mu.Unlock()
	}()
	buf := make([]byte, 1500)
	var p rtp.Packet
	for {
		if err := m.ch.ReadRTP(buf, &p); err != nil {
			return err
		}
		now := time.Now()
		last.Store(now.UnixNano())
		m.stats.RTPIn.Add(1)
		if p.PayloadType == c.PayloadType {
			m.leg.arrived(now, p.Timestamp, len(p.Payload), c.ClockRate)
		}
		mu.Lock()
		jb.Push(&p, now)
		if wait := jb.Expire(now); wait > 0 {
			timer.Reset(wait)
		}
		countLost()
		mu.Unlock()
	}
}

// rtpIn turns the RTP packets the jitter buffer releases into hub frames:
// the RTP clock becomes milliseconds here, once; Speex packets are split
// into their frames; RFC 4733 events go to onDTMF.
type rtpIn struct {
	c       rtpCodec
	rate    int
	pub     *media.Publisher
	onDTMF  func(byte)
	log     *slog.Logger
	started bool
	ts0     uint32
	dtmf    dtmfDetector
	frames  [][]byte
}

func (r *rtpIn) deliver(p *rtp.Packet) {
	switch {
	case r.c.DTMF && p.PayloadType == r.c.DTMFType:
		if d, ok := r.dtmf.push(p.Timestamp, p.Payload); ok {
			if r.onDTMF != nil {
				r.onDTMF(d)
			}
			r.publishDigit(p.Timestamp, d)
		}
		return
	case p.PayloadType != r.c.PayloadType || len(p.Payload) == 0:
		return
	}
	if !r.started {
		r.started, r.ts0 = true, p.Timestamp
	}
	ms := uint32(uint64(p.Timestamp-r.ts0) * 1000 / uint64(r.c.ClockRate))
	if r.c.ID != codec.Speex {
		r.publish(ms, p.Payload)
		return
	}
	var err error
	if r.frames, err = splitSpeex(r.frames[:0], p.Payload); err != nil {
		r.log.Debug("speex packet dropped", "err", err)
		return
	}
	for i, f := range r.frames {
		r.publish(ms+uint32(i)*speexFrameMillis, f)
	}
}

func (r *rtpIn) publish(ms uint32, pkt []byte) {
	// The jitter buffer reuses its packets' memory: the hub keeps frames.
	r.pub.Write(&media.Frame{Kind: media.KindAudio, Codec: r.c.ID, Rate: r.rate, Channels: 1, Timestamp: ms, Payload: bytes.Clone(pkt)})
}

// publishDigit puts the peer's digit on its stream too, as a KindDTMF
// frame: a WebRTC player (WHEP) sends it on as RFC 4733, so a client
// without the page's call events (pion) hears of it. The page gets it
// both ways (its browser does not show RFC 4733 to scripts), a SIP leg
// playing this stream sends it once (digitPaths), RTMP players skip it.
func (r *rtpIn) publishDigit(ts uint32, d byte) {
	ms := uint32(0)
	if r.started {
		ms = uint32(uint64(ts-r.ts0) * 1000 / uint64(r.c.ClockRate))
	}
	r.pub.Write(&media.Frame{Kind: media.KindDTMF, Timestamp: ms, Payload: []byte{d}})
}

// speexFrameMillis is the duration of one Speex frame (narrowband and wideband).
const speexFrameMillis = 20

// maxFrameDigits bounds the digits taken from one KindDTMF frame (the
// WebRTC edge puts one in each; each takes 100 ms to send).
const maxFrameDigits = 16

// sendDigits sends the digits that came by path as RFC 4733 events,
// but not those the other path already brought (digitPaths).
func (m *mediaBridge) sendDigits(ctx context.Context, w *rtpWriter, paths *digitPaths, path int, digits []byte) {
	if !w.c.DTMF {
		m.log.Info("dtmf not sent: the peer did not accept telephone-event", "digits", string(digits))
		return
	}
	now := time.Now()
	for _, d := range digits[:min(len(digits), maxFrameDigits)] {
		if _, ok := eventOf(d); !ok || !paths.send(path, d, now) {
			continue
		}
		if err := w.digit(ctx, d); err != nil {
			m.log.Debug("dtmf write failed", "err", err)
			return
		}
	}
}

// rtpWriter owns one outgoing RTP stream: SSRC, sequence and clock.
type rtpWriter struct {
	ch      channel
	c       rtpCodec
	stats   *Stats
	out     *atomic.Int64 // payload bytes sent, for the leg's record (nil: not counted)
	p       rtp.Packet
	ts      uint32 // RTP timestamp of the next audio packet
	lastMS  uint32
	started bool
}

func newRTPWriter(ch channel, c rtpCodec, stats *Stats) *rtpWriter {
	var b [6]byte
	rand.Read(b[:])
	w := &rtpWriter{ch: ch, c: c, stats: stats}
	w.p.Version = 2
	w.p.SSRC = binary.BigEndian.Uint32(b[:4])
	w.p.SequenceNumber = binary.BigEndian.Uint16(b[4:])
	w.ts = binary.BigEndian.Uint32(b[2:])
	return w
}

func (w *rtpWriter) send(pt uint8, ts uint32, marker bool, payload []byte) error {
	w.p.PayloadType, w.p.Timestamp, w.p.Marker, w.p.Payload = pt, ts, marker, payload
	w.p.SequenceNumber++
	w.stats.RTPOut.Add(1)
	if w.out != nil {
		w.out.Add(int64(len(payload)))
	}
	return w.ch.WriteRTP(&w.p)
}

// audio sends one frame; the RTP clock advances by the frame's timestamp
// gap (the one millisecond → RTP clock conversion) so silence and pauses
// keep their length.
func (w *rtpWriter) audio(ms uint32, pkt []byte) error {
	marker := !w.started
	if w.started {
		gap := ms - w.lastMS
		if gap > 0 && gap < 10_000 {
			w.ts += uint32(uint64(gap) * uint64(w.c.ClockRate) / 1000)
		} else {
			w.ts += uint32(w.c.ClockRate / 50)
			marker = true
		}
	}
	w.started, w.lastMS = true, ms
	return w.send(w.c.PayloadType, w.ts, marker, pkt)
}

// DTMF timing: each digit lasts dtmfPackets × 20 ms, its end is sent three
// times (RFC 4733 2.5.1.4), then a 60 ms pause.
const (
	dtmfClock    = 8000 // telephone-event/8000, the rate we offer and answer
	dtmfPackets  = 5
	dtmfInterval = 20 * time.Millisecond
)

// digit sends one DTMF digit as RFC 4733 events, paced in real time.
func (w *rtpWriter) digit(ctx context.Context, d byte) error {
	ev, ok := eventOf(d)
	if !ok {
		return fmt.Errorf("sip: %q is not a DTMF digit", d)
	}
	// The event's timestamp is on the audio's clock (one RTP stream);
	// its duration on telephone-event's, which we only negotiate at
	// 8000 Hz (an Opus call's audio clock is 48000).
	step := uint32(w.c.ClockRate / 50)
	evStep := uint16(dtmfClock / 50)
	ts := w.ts + step
	w.ts = ts
	var buf [dtmfSize]byte
	t := time.NewTicker(dtmfInterval)
	defer t.Stop()
	for i := range dtmfPackets + 3 {
		e := DTMFEvent{Event: ev, Volume: 10, Duration: evStep * uint16(min(i+1, dtmfPackets))}
		e.End = i >= dtmfPackets-1
		n, _ := e.MarshalTo(buf[:])
		if err := w.send(w.c.DTMFType, ts, i == 0, buf[:n]); err != nil {
			return err
		}
		if i >= dtmfPackets-1 && i < dtmfPackets+2 {
			continue // the end's retransmissions go back to back
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	w.ts += step * dtmfPackets
	return nil
}
