package chunk

import (
	"bytes"
	"io"
	"testing"

	"github.com/flashvox/flashvox/rtmp/message"
)

// BenchmarkChunkWrite writes a Nellymoser-sized (65-byte) audio message: the
// relay's hot path, which must not allocate.
func BenchmarkChunkWrite(b *testing.B) {
	w := NewWriter(io.Discard)
	w.SetChunkSize(4096)
	m := &message.Message{Type: message.TypeAudio, StreamID: 1, Payload: payload(65, 0)}
	b.ReportAllocs()
	b.SetBytes(65)
	for i := 0; b.Loop(); i++ {
		m.Timestamp = uint32(i) * 16
		if err := w.WriteMessage(m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChunkRead reads 65-byte audio messages; the one allocation per
// message is the payload the caller owns.
func BenchmarkChunkRead(b *testing.B) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	m := &message.Message{Type: message.TypeAudio, StreamID: 1, Payload: payload(65, 0)}
	const n = 1024
	for i := range n {
		m.Timestamp = uint32(i) * 16
		w.WriteMessage(m)
	}
	// From the second message on the stream is type 3 headers only; loop over those.
	first := 1 + 11 + 65
	loop := buf.Bytes()[first:]
	src := &repeatReader{head: buf.Bytes()[:first], loop: loop}
	r := NewReader(src, 1<<20, 64)
	var out message.Message
	b.ReportAllocs()
	b.SetBytes(65)
	for b.Loop() {
		if err := r.ReadMessage(&out); err != nil {
			b.Fatal(err)
		}
	}
}

type repeatReader struct {
	head, loop []byte
	off        int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if len(r.head) > 0 {
		n := copy(p, r.head)
		r.head = r.head[n:]
		return n, nil
	}
	n := copy(p, r.loop[r.off:])
	r.off = (r.off + n) % len(r.loop)
	return n, nil
}
