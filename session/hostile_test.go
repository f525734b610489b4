package session_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/rtmp/chunk"
	"github.com/flashvox/flashvox/rtmp/handshake"
	"github.com/flashvox/flashvox/rtmp/message"
)

// attack is one hostile connection: what it sends after connecting.
type attack struct {
	name string
	run  func(t *testing.T, c net.Conn)
}

func handshaken(t *testing.T, c net.Conn) io.ReadWriter {
	t.Helper()
	rw, err := handshake.Client(c, handshake.Options{Mode: handshake.Simple})
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	return rw
}

func writeMsg(t *testing.T, w io.Writer, m *message.Message) {
	t.Helper()
	if err := chunk.NewWriter(w).WriteMessage(m); err != nil {
		t.Fatalf("write: %v", err)
	}
}

func setChunkSize(n uint32) *message.Message {
	p := binary.BigEndian.AppendUint32(nil, n)
	return &message.Message{Type: message.TypeSetChunkSize, ChunkStreamID: 2, Payload: p}
}

var attacks = []attack{
	{"garbage handshake", func(t *testing.T, c net.Conn) {
		_, _ = c.Write(bytes.Repeat([]byte("GET / HTTP/1.1\r\n"), 200))
	}},
	{"silent before handshake", func(*testing.T, net.Conn) {}},
	{"chunk size 0", func(t *testing.T, c net.Conn) { writeMsg(t, handshaken(t, c), setChunkSize(0)) }},
	{"chunk size 2^31", func(t *testing.T, c net.Conn) { writeMsg(t, handshaken(t, c), setChunkSize(1<<31)) }},
	{"header claims 16 MiB", func(t *testing.T, c net.Conn) {
		rw := handshaken(t, c)
		// Type 0 header on csid 3: timestamp 0, length 0xFFFFFF, type 20, stream 0; then a trickle.
		hdr := []byte{0x03, 0, 0, 0, 0xff, 0xff, 0xff, 20, 0, 0, 0, 0}
		_, _ = rw.Write(append(hdr, bytes.Repeat([]byte{0}, 100)...))
	}},
	{"AMF bomb in connect", func(t *testing.T, c net.Conn) {
		rw := handshaken(t, c)
		p, _ := amf.Encode0(nil, "connect", 1.0)
		p = append(p, 0x0A, 0x7f, 0xff, 0xff, 0xff) // strict array of 2^31-1 elements, no data
		writeMsg(t, rw, &message.Message{Type: message.TypeCommandAMF0, ChunkStreamID: 3, Payload: p})
	}},
	{"silent after handshake", func(t *testing.T, c net.Conn) { handshaken(t, c) }},
}

// TestHostileConnectionsCloseAlone runs every attack against the full stack
// while a publish/play pair is live: each attacker is disconnected, and the
// pair keeps receiving audio during and after the attacks.
func TestHostileConnectionsCloseAlone(t *testing.T) {
	cfg := rtmpConfig()
	cfg.HandshakeTimeout = 2 * time.Second
	srv := startServer(t, cfg)
	pl := dialPlayer(t, srv.App(), "calm")
	pub, id := dialPublisher(t, srv.App(), "calm")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sent := make(chan int, 1)
	go func() { // the live pair: 50 frames a second until the attacks end
		n := 0
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				sent <- n
				return
			case <-tick.C:
				if err := pub.WriteAudio(id, uint32(n*20), []byte{0x42, byte(n)}); err != nil {
					sent <- -1
					return
				}
				n++
			}
		}
	}()

	done := make(chan string, len(attacks))
	for _, a := range attacks {
		go func() {
			c, err := net.Dial("tcp", srv.Addr)
			if err != nil {
				done <- a.name + ": dial: " + err.Error()
				return
			}
			defer c.Close()
			a.run(t, c)
			// The server must close it: a read ends with EOF or reset, not our deadline.
			_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
			_, err = io.Copy(io.Discard, c)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				done <- a.name + ": server kept the connection open"
				return
			}
			done <- ""
		}()
	}
	for range attacks {
		if msg := <-done; msg != "" {
			t.Error(msg)
		}
	}
	before := pl.audioCount()
	testwait.For(t, 3*time.Second, "audio after the attacks", func() bool { return pl.audioCount() > before+10 })
	cancel()
	n := <-sent
	if n < 0 {
		t.Fatal("publisher failed during the attacks")
	}
	testwait.For(t, 3*time.Second, "every frame at the player", func() bool { return pl.audioCount() == n })
	if st := srv.Srv.Stats(); st.HandshakeFailures < 2 {
		t.Fatalf("handshake failures %d, want ≥ 2", st.HandshakeFailures)
	}
}
