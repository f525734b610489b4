package rtmp

import (
	"context"
	"io"
	"net"
	"testing"

	"github.com/flashvox/flashvox/rtmp/message"
)

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
