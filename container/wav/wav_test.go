package wav

import (
	"encoding/binary"
	"errors"
	"slices"
	"syscall"
	"testing"

	"github.com/flashvox/flashvox/internal/test/testfile"
)

// FuzzParseWAV: any input parses or errors; what parses has a sane rate.
func FuzzParse(f *testing.F) {
	f.Add(wavBytes(f, []int16{0, 1, -1, 32767, -32768}, 8000))
	f.Add(wavBytes(f, nil, 16000))
	f.Fuzz(func(t *testing.T, b []byte) {
		pcm, rate, err := Parse(b)
		if err != nil {
			return
		}
		if rate <= 0 {
			t.Fatalf("rate %d", rate)
		}
		back, rate2, err := Parse(wavBytes(t, pcm, rate))
		if err != nil || rate2 != rate || !slices.Equal(back, pcm) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func wavBytes(t testing.TB, pcm []int16, rate int) []byte {
	var m testfile.Mem
	w, err := NewWriter(&m, rate)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(pcm); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return m.B
}

// A checkpoint makes the WAV header match the data written so far; a short
// write on a full disk leaves a header that claims no more than the file
// has, whole samples only.
func TestWAVCheckpointAndFullDisk(t *testing.T) {
	f := &testfile.FullDisk{Limit: 44 + 20001} // an odd byte: half a sample fits
	w, err := NewWriter(f, 16000)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(make([]int16, 1000)); err != nil {
		t.Fatal(err)
	}
	if err := w.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	if got := binary.LittleEndian.Uint32(f.B[40:44]); got != 2000 || len(f.B) != 44+2000 {
		t.Fatalf("after a checkpoint: data size %d, file %d bytes; want 2000, 2044", got, len(f.B))
	}
	if got := binary.LittleEndian.Uint32(f.B[4:8]); got != 36+2000 {
		t.Fatalf("RIFF size %d, want %d", got, 36+2000)
	}
	err = w.Write(make([]int16, 20000)) // past the 32 KiB buffer: written now
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("write on a full disk: %v, want ENOSPC", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("close after a full disk: %v", err)
	}
	data := int(binary.LittleEndian.Uint32(f.B[40:44]))
	if len(f.B) != f.Limit || data != 20000 || int(binary.LittleEndian.Uint32(f.B[4:8])) != 36+data {
		t.Fatalf("file %d bytes, header data size %d; want %d and 20000", len(f.B), data, f.Limit)
	}
	if _, _, err := Parse(f.B); err != nil {
		t.Fatal(err)
	}
}
