package rtmp

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/flashvox/flashvox/rtmp/message"
)

// TestFDWriterNeverWritesAfterClose: the fdWriter keeps a bare descriptor
// number; once closed, the kernel hands that number to the next socket, and
// a write must fail instead of landing there.
func TestFDWriterNeverWritesAfterClose(t *testing.T) {
	server, _ := tcpPair(t)
	var w fdWriter
	if !w.init(server) {
		t.Fatal("a TCP conn must get an fdWriter")
	}
	old := w.fd
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
	server2, client2 := tcpPair(t) // the kernel may reuse the number
	var w2 fdWriter
	w2.init(server2)
	t.Logf("closed fd %d, new socket fd %d", old, w2.fd)
	if n, err := w.tryWrite([]byte("must not arrive")); !errors.Is(err, net.ErrClosed) || n != 0 {
		t.Fatalf("write after close: n=%d err=%v, want net.ErrClosed", n, err)
	}
	client2.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, 64)
	if n, err := client2.Read(buf); n > 0 || err == nil {
		t.Fatalf("bytes reached another socket after close: %q", buf[:n])
	}
}

// TestWritesRacingClose: subscribers' writes from many goroutines while the
// Conn closes (run with -race); after Close every write reports ErrClosed.
func TestWritesRacingClose(t *testing.T) {
	server, client := tcpPair(t)
	go io.Copy(io.Discard, client)
	conn := NewConn(context.Background(), server, nil, ConnConfig{PingInterval: -1}, nil)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := range 8 {
		wg.Go(func() {
			<-start
			for i := range 2000 {
				err := conn.WriteMessage(&message.Message{Type: message.TypeAudio, StreamID: 1, Timestamp: uint32(i), Payload: []byte{0x42, byte(g)}})
				if err != nil && !errors.Is(err, ErrClosed) && !errors.Is(err, ErrQueueFull) {
					t.Errorf("write: %v", err)
					return
				}
			}
		})
	}
	close(start)
	time.Sleep(5 * time.Millisecond)
	conn.Close()
	wg.Wait()
	if err := conn.WriteMessage(&message.Message{Type: message.TypeAudio, StreamID: 1, Payload: []byte{0x42}}); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after Close: %v, want ErrClosed", err)
	}
}

// TestFDReader: data, the read deadline as a timeout error, and io.EOF.
func TestFDReader(t *testing.T) {
	server, client := tcpPair(t)
	r := newFDReader(server)
	if r == nil {
		t.Fatal("a TCP conn must get an fdReader")
	}
	if _, err := client.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	n, err := r.Read(buf)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	server.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	var ne net.Error
	if _, err := r.Read(buf); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read past the deadline: %v, want a timeout", err)
	}
	server.SetReadDeadline(time.Time{})
	client.Close()
	if n, err := r.Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("read after the peer closed: %d, %v, want io.EOF", n, err)
	}
	server.Close()
	if _, err := r.Read(buf); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read after Close: %v, want net.ErrClosed", err)
	}
}
