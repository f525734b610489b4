package app

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/codecs"
	"github.com/flashvox/flashvox/codec/resample"
	"github.com/flashvox/flashvox/config"
	"github.com/flashvox/flashvox/container/wav"
	"github.com/flashvox/flashvox/media"
)

// Call recording (call.record: all). Every answered call's two streams
// are tapped from the hub; one goroutine per call decodes both, mixes
// them by wall clock (recDelay behind, so that both parties' frames are
// in) and writes 16 kHz mono WAV. The file is created at the first
// frame, so a call whose media never passed the server (p2p) has none.
// Its header is rewritten every second (wav.Writer.Checkpoint): a
// SIGKILL loses at most that much.
const (
	recRate       = 16000
	recTick       = 100 * time.Millisecond
	recDelay      = 300 * time.Millisecond // mix this far behind the clock
	recMaxBacklog = recRate                // samples a party may run ahead (1 s), then the oldest go
	recQueue      = 64                     // frames waiting for a call's goroutine, per party
	recCheckpoint = time.Second
	maxRecordings = 10_000 // calls recorded at once; past it a call goes unrecorded (logged)
)

// callRecorder records calls; nil records nothing.
type callRecorder struct {
	hub *media.Hub
	dir string
	log *slog.Logger
	now func() time.Time

	mu   sync.Mutex
	live map[string]*callRecording // by call id

	Errors atomic.Uint64 // recordings that failed (file not created or not written)
}

// startCallRecorder is the recorder call.record asks for (nil: off),
// with its directory made (0750: recordings are for the operator only).
func startCallRecorder(cfg *config.Config, hub *media.Hub, log *slog.Logger) (*callRecorder, error) {
	if cfg.Call.Record != "all" {
		return nil, nil
	}
	dir := cfg.CallRecordDir()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("call.record_dir: %w", err)
	}
	log.Info("recording calls", "dir", dir)
	return newCallRecorder(hub, dir, log), nil
}

func newCallRecorder(hub *media.Hub, dir string, log *slog.Logger) *callRecorder {
	return &callRecorder{hub: hub, dir: dir, log: log, now: time.Now, live: map[string]*callRecording{}}
}

// start begins recording call id's streams; it never blocks (called
// under the call service's lock).
func (cr *callRecorder) start(id string, streams [2]string) {
	if cr == nil {
		return
	}
	cr.mu.Lock()
	defer cr.mu.Unlock()
	if cr.live[id] != nil {
		return
	}
	if len(cr.live) >= maxRecordings {
		cr.log.Warn("call not recorded: too many recordings at once", "call", id, "max", maxRecordings)
		return
	}
	r := &callRecording{cr: cr, id: id, streams: streams, stop: make(chan struct{}), done: make(chan struct{})}
	for i := range r.in {
		r.in[i] = make(chan *media.Frame, recQueue)
	}
	cr.live[id] = r
	go r.run()
}

// finish stops call id's recording, waits until its file is complete and
// returns the file's path ("" when the call was not recorded or no audio
// came).
func (cr *callRecorder) finish(id string) string {
	if cr == nil {
		return ""
	}
	cr.mu.Lock()
	r := cr.live[id]
	delete(cr.live, id)
	cr.mu.Unlock()
	if r == nil {
		return ""
	}
	close(r.stop)
	<-r.done
	return r.path
}

// callRecording is one call's recording; its fields below done belong to
// run's goroutine.
type callRecording struct {
	cr      *callRecorder
	id      string
	streams [2]string
	in      [2]chan *media.Frame
	dropped atomic.Uint64
	stop    chan struct{}
	done    chan struct{}
	path    string // set by run before done closes

	f       *os.File
	w       *wav.Writer
	failed  bool
	parties [2]recParty
	start   time.Time
	written int64 // samples
	lastCP  time.Time
}

// tapReceiver queues a copy of each audio frame of one party (on the
// publisher's goroutine: never blocks, drops when the queue is full).
type tapReceiver struct {
	r *callRecording
	i int
}

func (t tapReceiver) Receive(f *media.Frame) {
	if f.Kind != media.KindAudio || f.Config || f.Codec == 0 {
		return
	}
	c := *f
	c.Payload = append([]byte(nil), f.Payload...)
	select {
	case t.r.in[t.i] <- &c:
	default:
		t.r.dropped.Add(1)
	}
}

// run taps both streams and writes until stop, then the rest.
func (r *callRecording) run() {
	defer close(r.done)
	var subs [2]*media.Subscriber
	for i, key := range r.streams {
		subs[i] = r.cr.hub.Tap(key, tapReceiver{r, i})
	}
	tick := time.NewTicker(recTick)
	defer tick.Stop()
	for {
		select {
		case f := <-r.in[0]:
			r.decode(0, f)
		case f := <-r.in[1]:
			r.decode(1, f)
		case <-tick.C:
			r.mix(false)
		case <-r.stop:
			for _, s := range subs {
				s.Close()
			}
			r.drain()
			r.mix(true)
			r.close()
			return
		}
	}
}

// drain decodes what is still queued.
func (r *callRecording) drain() {
	for i := range r.in {
		for {
			select {
			case f := <-r.in[i]:
				r.decode(i, f)
				continue
			default:
			}
			break
		}
	}
}

// mix writes the samples due by now (all that is buffered when last):
// each party's next samples, silence where it has none, summed.
func (r *callRecording) mix(last bool) {
	if r.w == nil {
		return
	}
	n := int(int64(r.cr.now().Sub(r.start)-recDelay)*recRate/int64(time.Second) - r.written)
	if last {
		n = max(len(r.parties[0].buf), len(r.parties[1].buf))
	}
	if n <= 0 {
		return
	}
	out := make([]int16, n)
	for i := range r.parties {
		p := &r.parties[i]
		k := min(n, len(p.buf))
		for j, s := range p.buf[:k] {
			out[j] = clip16(int32(out[j]) + int32(s))
		}
		p.buf = p.buf[:copy(p.buf, p.buf[k:])]
		if extra := len(p.buf) - recMaxBacklog; extra > 0 { // a party ahead of the clock: drop its oldest
			p.buf = p.buf[:copy(p.buf, p.buf[extra:])]
		}
	}
	r.written += int64(n)
	if r.failed {
		return
	}
	err := r.w.Write(out)
	if err == nil && (last || r.cr.now().Sub(r.lastCP) >= recCheckpoint) {
		r.lastCP = r.cr.now()
		err = r.w.Checkpoint()
	}
	if err != nil {
		r.fail(err)
	}
}

// decode appends party i's frame to its buffer, creating the file at the
// first frame of the call.
func (r *callRecording) decode(i int, f *media.Frame) {
	if r.f == nil && !r.failed {
		r.open()
	}
	if err := r.parties[i].decode(f); err != nil {
		r.cr.log.Debug("call recording: a frame not decoded", "call", r.id, "party", i, "err", err)
	}
}

// open creates the call's file (never overwriting one) with its header.
func (r *callRecording) open() {
	now := r.cr.now()
	path := filepath.Join(r.cr.dir, fmt.Sprintf("call-%s-%s.wav", now.UTC().Format("20060102-150405"), r.id))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		r.fail(err)
		return
	}
	w, err := wav.NewWriter(f, recRate)
	if err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		r.fail(err)
		return
	}
	r.f, r.w, r.path, r.start, r.lastCP = f, w, path, now, now
	r.cr.log.Info("call recording started", "call", r.id, "recording", path)
}

// fail logs err once and stops writing (the file keeps what its last
// checkpoint says).
func (r *callRecording) fail(err error) {
	if r.failed {
		return
	}
	r.failed = true
	r.cr.Errors.Add(1)
	r.cr.log.Error("call recording failed; the call goes on unrecorded", "call", r.id, "err", err)
}

// close completes the file.
func (r *callRecording) close() {
	for i := range r.parties {
		r.parties[i].close()
	}
	if r.f == nil {
		return
	}
	if err := errors.Join(r.w.Close(), r.f.Close()); err != nil {
		r.fail(err)
	}
	r.cr.log.Info("call recording ended", "call", r.id, "recording", r.path, "seconds", float64(r.written)/recRate,
		"frames_dropped", r.dropped.Load())
}

// recParty is one party's decoder and the audio it has not mixed yet.
type recParty struct {
	dec     codec.Decoder
	id      codec.ID
	rate    int
	rs      *resample.Resampler
	pcm, rb []int16
	buf     []int16
}

// decode appends f's audio at recRate to buf, switching decoders when
// the codec changes.
func (p *recParty) decode(f *media.Frame) error {
	if f.Codec != p.id || f.Rate != p.rate {
		p.close()
		dec, err := codecs.NewDecoder(f.Codec, f.Rate)
		if err != nil {
			p.id, p.rate = f.Codec, f.Rate // not retried for every frame
			return err
		}
		p.dec, p.id, p.rate = dec, f.Codec, f.Rate
		if r := dec.SampleRate(); r != recRate {
			if p.rs, err = resample.New(r, recRate); err != nil {
				p.close()
				return err
			}
		}
	}
	if p.dec == nil {
		return nil
	}
	var err error
	p.pcm, err = p.dec.Decode(p.pcm[:0], f.Payload)
	pcm := p.pcm
	if p.rs != nil {
		p.rb = p.rs.Resample(p.rb[:0], pcm)
		pcm = p.rb
	}
	p.buf = append(p.buf, pcm...)
	return err
}

// close frees the decoder (Opus holds C memory).
func (p *recParty) close() {
	if c, ok := p.dec.(interface{ Close() error }); ok {
		_ = c.Close()
	}
	p.dec, p.rs = nil, nil
}

func clip16(v int32) int16 {
	return int16(max(-32768, min(32767, v)))
}
