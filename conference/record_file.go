package conference

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/codecs"
	"github.com/flashvox/flashvox/container/flv"
	"github.com/flashvox/flashvox/container/wav"
)

// recordFile is one file of a recording (a recording that failed and
// resumed has several). It belongs to the recording's writer goroutine.
type recordFile struct {
	path    string
	f       *os.File
	sink    recordSink
	log     *slog.Logger
	samples int64 // written to the file (WAV) or the encoder (FLV)
	blocks  int   // written since the last checkpoint
}

// recordSink is one file format's encoder. write hands the bytes to the
// kernel (a killed process loses none of them); checkpoint makes the
// headers say what the file holds; finish completes the file.
type recordSink interface {
	write(pcm []int16) error
	checkpoint() error
	finish() error
}

// openRecordFile creates room's next file in dir, named by room and start
// (UTC), never overwriting an existing one, with its header.
func openRecordFile(dir, room string, format RecordFormat, start time.Time, log *slog.Logger) (*recordFile, error) {
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
		return nil, err
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
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &recordFile{path: path, f: f, sink: sink, log: log.With("recording", path)}, nil
}

// write appends a block and, every recordCheckpoint blocks, rewrites the
// headers: a SIGKILL loses at most that much.
func (rf *recordFile) write(b []int16) error {
	if err := rf.sink.write(b); err != nil {
		return err
	}
	rf.samples += int64(len(b))
	if rf.blocks++; rf.blocks >= recordCheckpoint {
		rf.blocks = 0
		return rf.sink.checkpoint()
	}
	return nil
}

// close completes the file (headers saying what it holds, also after a
// failed write), fsyncs and closes it.
func (rf *recordFile) close() {
	err := rf.sink.finish()
	if serr := rf.f.Sync(); err == nil {
		err = serr
	}
	if cerr := rf.f.Close(); err == nil {
		err = cerr
	}
	secs := float64(rf.samples) / MixRate
	if err != nil {
		rf.log.Warn("recording closed, its end may be missing", "err", err, "seconds", secs)
		return
	}
	rf.log.Info("recording closed", "seconds", secs)
}

// wavSink writes 16 kHz mono 16-bit PCM.
type wavSink struct{ w *wav.Writer }

func newWAVSink(f *os.File) (*wavSink, error) {
	w, err := wav.NewWriter(f, MixRate)
	if err != nil {
		return nil, err
	}
	return &wavSink{w: w}, nil
}

func (s *wavSink) write(pcm []int16) error {
	if err := s.w.Write(pcm); err != nil {
		return err
	}
	return s.w.Flush()
}

func (s *wavSink) checkpoint() error { return s.w.Checkpoint() }
func (s *wavSink) finish() error     { return s.w.Close() }

// flvSink encodes Speex at 16 kHz (the FLV audio codec Flash and ffmpeg
// both play at that rate) into audio tags timed by the samples written,
// after an onMetaData tag whose duration checkpoints keep up to date.
type flvSink struct {
	w       *flv.Writer
	enc     codec.Encoder
	hdr     byte
	pend    []int16
	pkt     []byte
	samples int64 // encoded into tags
}

func newFLVSink(f *os.File) (*flvSink, error) {
	hdr, err := codec.FLVAudioHeader(codec.Speex, MixRate)
	if err != nil {
		return nil, err
	}
	w, err := flv.NewWriter(f, flv.Tracks{Audio: true})
	if err == nil {
		err = w.WriteMetaData(flv.Meta{AudioCodec: hdr >> 4, SampleRate: MixRate})
	}
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		return nil, err
	}
	enc, err := codecs.NewEncoder(codec.Speex, MixRate)
	if err != nil {
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
		if err := s.w.WriteTag(flv.Tag{Type: flv.TagAudio, Timestamp: ts, Data: s.pkt}); err != nil {
			return err
		}
		s.samples += int64(n)
	}
	s.pend = s.pend[:copy(s.pend, s.pend[done:])]
	return s.w.Flush()
}

func (s *flvSink) checkpoint() error {
	return s.w.Checkpoint(time.Duration(s.samples) * time.Second / MixRate)
}

func (s *flvSink) finish() error {
	closeCodec(s.enc)
	return s.checkpoint()
}
