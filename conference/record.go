package conference

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/codecs"
	"github.com/flashvox/flashvox/convert"
)

// A recording is written by its own goroutine so that a slow disk never
// delays a mix: the mixer fills blocks of recordBlock frames (1 s) and hands
// them over through a queue of recordQueue blocks; when the queue is full
// (the disk stalled for that long) a block is dropped and counted.
const (
	recordBlock = 50
	recordQueue = 8
)

// recording writes a room's full mix to a WAV or FLV file. write and close
// belong to the mixer goroutine; the file belongs to the writer goroutine.
type recording struct {
	path    string
	log     *slog.Logger
	blocks  chan []int16
	free    chan []int16
	cur     []int16
	done    chan struct{}
	dropped int // blocks dropped since the last warning
	sink    recordSink
	file    *os.File
}

// recordSink is one file format's encoder.
type recordSink interface {
	write(pcm []int16) error
	// finish writes what a complete file needs (WAV sizes, buffered tags).
	finish() error
}

// startRecording creates room's file in dir, named by room and start time
// (UTC), never overwriting an existing one.
func startRecording(dir, room string, format RecordFormat, start time.Time, log *slog.Logger) (*recording, error) {
	base := filepath.Join(dir, room+"-"+start.UTC().Format("20060102-150405"))
	var f *os.File
	var err error
	path := ""
	for i := 1; i <= 100; i++ {
		path = base + "." + string(format)
		if i > 1 {
			path = fmt.Sprintf("%s-%d.%s", base, i, format)
		}
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
		if !errors.Is(err, os.ErrExist) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("conference: recording %s: %w", room, err)
	}
	var sink recordSink
	switch format {
	case RecordWAV:
		sink, err = newWAVSink(f)
	case RecordFLV:
		sink, err = newFLVSink(f)
	default:
		err = fmt.Errorf("format %q", format)
	}
	if err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return nil, fmt.Errorf("conference: recording %s to %s: %w", room, path, err)
	}
	rec := &recording{path: path, log: log.With("recording", path), blocks: make(chan []int16, recordQueue),
		free: make(chan []int16, recordQueue), done: make(chan struct{}), sink: sink, file: f}
	rec.cur = make([]int16, 0, recordBlock*FrameSamples)
	go rec.run()
	rec.log.Info("recording started", "format", format)
	return rec, nil
}

// write appends one 20 ms frame of the mix; it never blocks.
func (r *recording) write(frame []int16) {
	r.cur = append(r.cur, frame...)
	if len(r.cur) < recordBlock*FrameSamples {
		return
	}
	select {
	case r.blocks <- r.cur:
		if r.dropped > 0 {
			r.log.Warn("recording lost audio: the disk was too slow", "seconds", r.dropped)
			r.dropped = 0
		}
		select {
		case r.cur = <-r.free:
			r.cur = r.cur[:0]
		default:
			r.cur = make([]int16, 0, recordBlock*FrameSamples)
		}
	default:
		r.dropped++ // the block is lost; reuse it
		r.cur = r.cur[:0]
	}
}

// close hands over the last partial block and waits until the file is
// complete and closed.
func (r *recording) close() {
	if r.dropped > 0 {
		r.log.Warn("recording lost audio: the disk was too slow", "seconds", r.dropped)
	}
	if len(r.cur) > 0 {
		r.blocks <- r.cur // the writer drains the queue, so this returns
	}
	close(r.blocks)
	<-r.done
}

// run writes blocks until close, then completes the file. A write error
// stops the writing (logged once); the file is still closed.
func (r *recording) run() {
	defer close(r.done)
	var failed error
	samples := 0
	for b := range r.blocks {
		if failed == nil {
			if failed = r.sink.write(b); failed != nil {
				r.log.Error("recording write failed; the rest of the room is not recorded", "err", failed)
			}
			samples += len(b)
		}
		select {
		case r.free <- b:
		default:
		}
	}
	err := r.sink.finish()
	if err == nil {
		err = r.file.Sync()
	}
	if cerr := r.file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		r.log.Error("recording not closed cleanly", "err", err)
		return
	}
	r.log.Info("recording closed", "seconds", float64(samples)/MixRate)
}

// wavSink writes 16 kHz mono 16-bit PCM; the header's sizes are patched
// on finish.
type wavSink struct{ w *convert.WAVWriter }

func newWAVSink(f io.WriteSeeker) (*wavSink, error) {
	w, err := convert.NewWAVWriter(f, MixRate)
	if err != nil {
		return nil, err
	}
	return &wavSink{w: w}, nil
}

func (s *wavSink) write(pcm []int16) error { return s.w.Write(pcm) }
func (s *wavSink) finish() error           { return s.w.Close() }

// flvSink encodes Speex at 16 kHz (the FLV audio codec Flash and ffmpeg
// both play at that rate) into audio tags timed by the samples written.
type flvSink struct {
	w       *convert.FLVWriter
	enc     codec.Encoder
	hdr     byte
	pend    []int16
	pkt     []byte
	samples int64
}

func newFLVSink(f io.Writer) (*flvSink, error) {
	hdr, err := codec.FLVAudioHeader(codec.Speex, MixRate)
	if err != nil {
		return nil, err
	}
	enc, err := codecs.NewEncoder(codec.Speex, MixRate)
	if err != nil {
		return nil, err
	}
	w, err := convert.NewFLVWriter(f, convert.Tracks{Audio: true})
	if err != nil {
		closeCodec(enc)
		return nil, err
	}
	return &flvSink{w: w, enc: enc, hdr: hdr}, nil
}

func (s *flvSink) write(pcm []int16) error {
	s.pend = append(s.pend, pcm...)
	n := s.enc.FrameSamples()
	done := 0
	for ; len(s.pend)-done >= n; done += n {
		var err error
		s.pkt, err = s.enc.Encode(append(s.pkt[:0], s.hdr), s.pend[done:done+n])
		if err != nil {
			return fmt.Errorf("speex: %w", err)
		}
		ts := uint32(s.samples * 1000 / MixRate)
		if err := s.w.WriteTag(convert.Tag{Type: convert.TagAudio, Timestamp: ts, Data: s.pkt}); err != nil {
			return err
		}
		s.samples += int64(n)
	}
	s.pend = s.pend[:copy(s.pend, s.pend[done:])]
	return nil
}

func (s *flvSink) finish() error {
	closeCodec(s.enc)
	return s.w.Flush()
}
