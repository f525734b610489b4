package rtmp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flashvox/flashvox/rtmp/chunk"
	"github.com/flashvox/flashvox/rtmp/handshake"
	"github.com/flashvox/flashvox/rtmp/message"
)

// TestHostileInput: each bad peer is closed alone, within its limit, while a
// normal client on the same server keeps working.
func TestHostileInput(t *testing.T) {
	cfg := ConnConfig{
		HandshakeTimeout: 300 * time.Millisecond,
		ReadTimeout:      400 * time.Millisecond,
		PingInterval:     100 * time.Millisecond,
	}
	ts := startServer(t, cfg, echoHandler{})
	addr := strings.TrimSuffix(strings.TrimPrefix(ts.url, "rtmp://"), "/live")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	good, err := Dial(ctx, ts.url, ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()

	chunks := func(msgs ...*message.Message) []byte {
		var buf bytes.Buffer
		w := chunk.NewWriter(&buf)
		for _, m := range msgs {
			w.WriteMessage(m)
		}
		return buf.Bytes()
	}
	var many []*message.Message
	for i := range 200 {
		many = append(many, &message.Message{Type: message.TypeAudio, StreamID: 1, ChunkStreamID: uint32(10 + i), Payload: []byte{1}})
	}
	// Half-sent messages parked on many chunk streams before connect: each
	// declares 16 KiB and sends one 128-byte chunk; the third passes the
	// 32 KiB pre-connect budget.
	var halfSent []byte
	for i := range 60 {
		halfSent = append(halfSent, byte(10+i), 0, 0, 0, 0, 0x40, 0, message.TypeAudio, 1, 0, 0, 0)
		halfSent = append(halfSent, make([]byte, 128)...)
	}
	tests := []struct {
		name      string
		handshake bool
		send      []byte
		wantPing  bool
	}{
		{"garbage handshake", false, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), false},
		{"silent before handshake", false, nil, false},
		{"chunk size 0", true, chunks(message.SetChunkSizeMessage(0)), false},
		{"chunk size 2^31", true, chunks(message.SetChunkSizeMessage(1 << 31)), false},
		{"header claims 16 MiB", true, []byte{0x06, 0, 0, 0, 0xff, 0xff, 0xff, message.TypeVideo, 1, 0, 0, 0}, false},
		{"many chunk streams", true, chunks(many...), false},
		{"half-sent messages before connect", true, halfSent, false},
		{"silent after handshake", true, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			nc.SetDeadline(time.Now().Add(3 * time.Second))
			if tt.handshake {
				if _, err := handshake.Client(nc, handshake.Options{Mode: handshake.Simple}); err != nil {
					t.Fatal(err)
				}
			}
			nc.Write(tt.send)
			start := time.Now()
			got, err := io.ReadAll(nc)
			if err != nil && !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("not closed by the server: %v", err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("closed after %s", d)
			}
			if tt.wantPing && !bytes.Contains(got, []byte{0, 6}) {
				t.Fatalf("no PingRequest before the idle close: % x", got)
			}
		})
	}
	if _, err := good.Call(ctx, "echo", "still here"); err != nil {
		t.Fatalf("normal client broken: %v", err)
	}
	if st := ts.srv.Stats(); st.HandshakeFailures != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestServerMaxConnsPerIP(t *testing.T) {
	ts := startServer(t, ConnConfig{}, echoHandler{}, func(s *Server) { s.MaxConnsPerIP = 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	a, err := Dial(ctx, ts.url, ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if b, err := Dial(ctx, ts.url, ClientOptions{}); err == nil {
		b.Close()
		t.Fatal("second conn from one IP accepted")
	}
	if st := ts.srv.Stats(); st.Rejected != 1 {
		t.Fatalf("stats %+v", st)
	}
}
