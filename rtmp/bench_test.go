package rtmp

import (
	"bytes"
	"context"
	"io"
	"net"
	"testing"

	"github.com/flashvox/flashvox/rtmp/message"
)

// BenchmarkChunkWrite writes a Nellymoser-sized (65-byte) audio message: the
// relay's hot path, which must not allocate.
func BenchmarkChunkWrite(b *testing.B) {
	w := NewChunkWriter(io.Discard)
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
	w := NewChunkWriter(&buf)
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
	r := NewChunkReader(src, 1<<20, 64)
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

// BenchmarkConnWriteMessage is the enqueue path a subscriber's fan-out uses.
func BenchmarkConnWriteMessage(b *testing.B) {
	c := &Conn{cfg: DefaultConnConfig(), wake: make(chan struct{}, 1)}
	m := &message.Message{Type: message.TypeAudio, StreamID: 1, Payload: payload(65, 0)}
	b.ReportAllocs()
	for b.Loop() {
		c.enqueue(m)
		if len(c.q) == cap(c.q) && len(c.q) > 0 {
			c.q = c.q[:0]
		}
	}
}

// BenchmarkConnWriteDirect is the direct path a fan-out takes to a
// subscriber whose socket has room: encode on the stack, one sendto(2) on
// loopback TCP (a goroutine drains the other end). It must not allocate;
// most of its time is the kernel's.
func BenchmarkConnWriteDirect(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	c := NewConn(context.Background(), nc, nil, ConnConfig{PingInterval: -1}, nil)
	defer c.Close()
	if c.raw == nil {
		b.Fatal("no direct writes on a TCP conn")
	}
	m := &message.Message{Type: message.TypeAudio, StreamID: 1, Payload: payload(65, 0)}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.Timestamp = uint32(i) * 16
		if err := c.WriteMessage(m); err != nil {
			b.Fatal(err)
		}
	}
}
