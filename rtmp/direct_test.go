package rtmp

import (
	"context"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/rtmp/chunk"
	"github.com/flashvox/flashvox/rtmp/message"
)

// tcpPair returns both ends of a loopback TCP connection, closed when the
// test ends (direct writes need a real socket).
func tcpPair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		client.Close()
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return server, client
}

// TestDirectAndQueuedWritesKeepOrder writes faster than a slow reader takes
// on a real TCP socket, so messages go the direct way, then the queued way
// once the socket buffer fills, then direct again: the reader must see every
// message exactly once, in order.
func TestDirectAndQueuedWritesKeepOrder(t *testing.T) {
	server, client := tcpPair(t)
	const n = 3000
	cfg := ConnConfig{WriteQueue: n, PingInterval: -1, ChunkSize: 4096}
	conn := NewConn(context.Background(), server, nil, cfg, nil)
	defer conn.Close()
	if conn.raw == nil {
		t.Fatal("a plain TCP conn must use direct writes")
	}

	done := make(chan error, 1)
	go func() {
		r := chunk.NewReader(client, 1<<20, 16)
		var m message.Message
		for i := 0; i < n; {
			if err := r.ReadMessage(&m); err != nil {
				done <- err
				return
			}
			if m.Type != message.TypeAudio {
				continue // the Set Chunk Size announcement
			}
			if got := binary.BigEndian.Uint32(m.Payload); got != uint32(i) {
				t.Errorf("message %d arrived as number %d", i, got)
				done <- nil
				return
			}
			if i%500 == 0 {
				time.Sleep(50 * time.Millisecond) // let the socket buffer fill
			}
			i++
		}
		done <- nil
	}()
	payload := make([]byte, 2048)
	for i := range n {
		p := make([]byte, len(payload))
		binary.BigEndian.PutUint32(p, uint32(i))
		if err := conn.WriteMessage(&message.Message{Type: message.TypeAudio, StreamID: 1, Timestamp: uint32(i), Payload: p}); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("reader did not get every message")
	}
	if d := conn.Dropped(); d != 0 {
		t.Fatalf("%d dropped with a queue of %d", d, n)
	}
}

// TestDirectWritesOutliveTheWriteDeadline: after the writer goroutine has
// made a blocking write (which sets a write deadline), direct writes made
// long after that deadline must still go through.
func TestDirectWritesOutliveTheWriteDeadline(t *testing.T) {
	server, client := tcpPair(t)
	// The timeout bounds each of the writer's blocking writes: long enough
	// for a loaded machine's reader (under -race) to drain 200 KB.
	cfg := ConnConfig{WriteQueue: 4096, PingInterval: -1, WriteTimeout: 2 * time.Second}
	conn := NewConn(context.Background(), server, nil, cfg, nil)
	defer conn.Close()

	got := make(chan uint8, 1024)
	startReading := make(chan struct{})
	go func() {
		<-startReading
		r := chunk.NewReader(client, 1<<20, 16)
		var m message.Message
		for {
			if err := r.ReadMessage(&m); err != nil {
				close(got)
				return
			}
			got <- m.Type
		}
	}()
	// Fill the socket while nobody reads: the writer goroutine then writes
	// the rest (setting its deadline), and the reader starts draining.
	big := make([]byte, 200000)
	for range 40 { // 8 MB: more than a loopback socket buffers
		if err := conn.WriteMessage(&message.Message{Type: message.TypeVideo, StreamID: 1, Payload: big}); err != nil {
			t.Fatal(err)
		}
	}
	testwait.For(t, 10*time.Second, "a write through the writer goroutine", func() bool { return conn.blockingWrites.Load() > 0 })
	close(startReading)
	for videos := 0; videos < 40; {
		select {
		case typ, ok := <-got:
			if !ok {
				t.Fatalf("connection ended while draining: %v", conn.Err())
			}
			if typ == message.TypeVideo {
				videos++
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("the reader got %d of 40 video messages", videos)
		}
	}
	// Past the deadline the writer set for its last write (at most
	// WriteTimeout after it began): a wall-clock bound, not an event.
	time.Sleep(cfg.WriteTimeout + 100*time.Millisecond)
	if err := conn.WriteMessage(&message.Message{Type: message.TypeAudio, StreamID: 1, Payload: []byte{0x42}}); err != nil {
		t.Fatalf("direct write after the deadline: %v", err)
	}
	timeout := time.After(10 * time.Second)
	for {
		select {
		case typ, ok := <-got:
			if !ok {
				t.Fatalf("connection ended: %v", conn.Err())
			}
			if typ == message.TypeAudio {
				return
			}
		case <-timeout:
			t.Fatalf("audio never arrived (conn: %v)", conn.Err())
		}
	}
}
