package flv

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"syscall"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testfile"
)

// metaDuration returns the duration of an FLV image's onMetaData tag.
func metaDuration(t *testing.T, b []byte) float64 {
	t.Helper()
	tags, err := Parse(b) // a file cut by a full disk ends in a partial tag
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
			f := &testfile.FullDisk{Limit: c.limit}
			w, err := NewWriter(f, Tracks{Audio: true})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.WriteMetaData(Meta{AudioCodec: 11, SampleRate: 16000}); err != nil {
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
			if d := metaDuration(t, f.B); d != 0.2 {
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
			if d := metaDuration(t, f.B); d != want {
				t.Fatalf("duration %v, want %v", d, want)
			}
		})
	}
}

// A writer that can neither seek nor write at an offset cannot take a
// duration: Checkpoint says so instead of writing it in the wrong place.
func TestFLVCheckpointNeedsSeek(t *testing.T) {
	var b bytes.Buffer
	w, _ := NewWriter(struct{ io.Writer }{&b}, Tracks{Audio: true})
	if err := w.WriteMetaData(Meta{AudioCodec: 11, SampleRate: 16000}); err != nil {
		t.Fatal(err)
	}
	if err := w.Checkpoint(time.Second); !errors.Is(err, ErrFormat) {
		t.Fatalf("Checkpoint: %v, want ErrFormat", err)
	}
}
