package convert

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"syscall"
	"testing"
	"time"
)

// fullDisk is a file on a disk that holds at most limit bytes: a write
// past it takes what fits and fails with ENOSPC; rewriting bytes the file
// already has always works (as on a real file system).
type fullDisk struct {
	memFile
	limit int
}

func (f *fullDisk) Write(p []byte) (int, error) {
	if room := f.limit - f.off; len(p) > room {
		n, _ := f.memFile.Write(p[:max(room, 0)])
		return n, syscall.ENOSPC
	}
	return f.memFile.Write(p)
}

// A checkpoint makes the WAV header match the data written so far; a short
// write on a full disk leaves a header that claims no more than the file
// has, whole samples only.
func TestWAVCheckpointAndFullDisk(t *testing.T) {
	f := &fullDisk{limit: 44 + 20001} // an odd byte: half a sample fits
	w, err := NewWAVWriter(f, 16000)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(make([]int16, 1000)); err != nil {
		t.Fatal(err)
	}
	if err := w.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	if got := binary.LittleEndian.Uint32(f.b[40:44]); got != 2000 || len(f.b) != 44+2000 {
		t.Fatalf("after a checkpoint: data size %d, file %d bytes; want 2000, 2044", got, len(f.b))
	}
	if got := binary.LittleEndian.Uint32(f.b[4:8]); got != 36+2000 {
		t.Fatalf("RIFF size %d, want %d", got, 36+2000)
	}
	err = w.Write(make([]int16, 20000)) // past the 32 KiB buffer: written now
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("write on a full disk: %v, want ENOSPC", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("close after a full disk: %v", err)
	}
	data := int(binary.LittleEndian.Uint32(f.b[40:44]))
	if len(f.b) != f.limit || data != 20000 || int(binary.LittleEndian.Uint32(f.b[4:8])) != 36+data {
		t.Fatalf("file %d bytes, header data size %d; want %d and 20000", len(f.b), data, f.limit)
	}
	if _, _, err := ParseWAV(f.b); err != nil {
		t.Fatal(err)
	}
}

// metaDuration returns the duration of an FLV image's onMetaData tag.
func metaDuration(t *testing.T, b []byte) float64 {
	t.Helper()
	tags, err := ParseFLV(b) // a file cut by a full disk ends in a partial tag
	if len(tags) == 0 || tags[0].Type != TagScript {
		t.Fatalf("no script tag first: %v", err)
	}
	i := bytes.Index(tags[0].Data, []byte("duration"))
	if i < 0 || tags[0].Data[i+8] != amf0Number {
		t.Fatalf("onMetaData without a duration number: %q", tags[0].Data)
	}
	return math.Float64frombits(binary.BigEndian.Uint64(tags[0].Data[i+9:]))
}

// onMetaData's duration is rewritten in place by Checkpoint, through a
// Seeker or a WriterAt, and only once the tags before it are written.
func TestFLVCheckpointDuration(t *testing.T) {
	for _, c := range []struct {
		name  string
		limit int
	}{{"seeker", 1 << 20}, {"full disk", 2000}} {
		t.Run(c.name, func(t *testing.T) {
			f := &fullDisk{limit: c.limit}
			w, err := NewFLVWriter(f, Tracks{Audio: true})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.WriteMetaData(FLVMeta{AudioCodec: 11, SampleRate: 16000}); err != nil {
				t.Fatal(err)
			}
			tag := Tag{Type: TagAudio, Data: make([]byte, 71)}
			for i := range 10 {
				tag.Timestamp = uint32(i * 20)
				if err := w.WriteTag(tag); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Checkpoint(200 * time.Millisecond); err != nil {
				t.Fatal(err)
			}
			if d := metaDuration(t, f.b); d != 0.2 {
				t.Fatalf("duration %v after a checkpoint, want 0.2", d)
			}
			for i := 10; i < 100; i++ {
				tag.Timestamp = uint32(i * 20)
				if err := w.WriteTag(tag); err != nil {
					break // the buffer is full and could not be written
				}
			}
			err = w.Checkpoint(2 * time.Second)
			want := 2.0
			if c.limit < 1<<20 {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("checkpoint on a full disk: %v", err)
				}
				want = 0.2 // the tags after 0.2 s did not all reach the file
			} else if err != nil {
				t.Fatal(err)
			}
			if d := metaDuration(t, f.b); d != want {
				t.Fatalf("duration %v, want %v", d, want)
			}
		})
	}
}

// A writer that can neither seek nor write at an offset cannot take a
// duration: Checkpoint says so instead of writing it in the wrong place.
func TestFLVCheckpointNeedsSeek(t *testing.T) {
	var b bytes.Buffer
	w, _ := NewFLVWriter(struct{ io.Writer }{&b}, Tracks{Audio: true})
	if err := w.WriteMetaData(FLVMeta{AudioCodec: 11, SampleRate: 16000}); err != nil {
		t.Fatal(err)
	}
	if err := w.Checkpoint(time.Second); !errors.Is(err, ErrFormat) {
		t.Fatalf("Checkpoint: %v, want ErrFormat", err)
	}
}
