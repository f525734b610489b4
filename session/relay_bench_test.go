package session

import (
	"context"
	"io"
	"net"
	"testing"

	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/rtmp"
	"github.com/flashvox/flashvox/rtmp/message"
)

// relayPlayers is the fan-out of one relayed stream in bench/relay's shape:
// 30 players of a 16 kHz Nellymoser stream.
const relayPlayers = 30

// BenchmarkRelayFanOut is the per-frame path of a relay from the moment
// the publisher's session has read an FLV audio message: the frame is
// made (audioFrame), the hub hands it to every player (media.Publisher
// Write → player.Receive), each player's shared FLV body and RTMP message
// go to its connection. One op is one frame to 30 players; ns/delivery is
// per player.
//   - discard: a Transport that drops the message, so only flashvox's own
//     code is timed (hub, session, no rtmp.Conn);
//   - tcp: real rtmp.Conns on loopback TCP, each drained by a goroutine:
//     the direct write (chunk encode, one sendto(2)) and the kernel's
//     loopback delivery, which is most of the time (BENCHMARKS.md).
func BenchmarkRelayFanOut(b *testing.B) {
	b.Run("discard", func(b *testing.B) {
		ts := make([]Transport, relayPlayers)
		for i := range ts {
			ts[i] = discardTransport{}
		}
		benchFanOut(b, ts)
	})
	b.Run("tcp", func(b *testing.B) {
		benchFanOut(b, loopbackConns(b, relayPlayers))
	})
}

func benchFanOut(b *testing.B, ts []Transport) {
	hub := media.NewHub(64, nil)
	pub, err := hub.Publish("live/bench")
	if err != nil {
		b.Fatal(err)
	}
	defer pub.Close()
	share := newFLVShare()
	for _, t := range ts {
		// Subscribed after Publish: no publish event, which would need a
		// Session for its onStatus.
		p := &player{t: t, streamID: 1, started: true, flv: share.get("live/bench")}
		defer hub.Subscribe("live/bench", p).Close()
	}
	body := make([]byte, 65)
	body[0] = 0x42 // Nellymoser 16 kHz mono
	b.ReportAllocs()
	ts32 := uint32(0)
	for b.Loop() {
		f := &media.Frame{Timestamp: ts32}
		audioFrame(f, body)
		pub.Write(f)
		ts32 += 16
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(ts)), "ns/delivery")
}

type discardTransport struct{}

func (discardTransport) ReadMessage() (*message.Message, error) { return nil, io.EOF }
func (discardTransport) WriteMessage(*message.Message) error    { return nil }
func (discardTransport) RemoteAddr() net.Addr                   { return &net.TCPAddr{} }

// loopbackConns returns n server-side rtmp.Conns on 127.0.0.1 whose peers
// read and discard everything; they close when b ends.
func loopbackConns(b *testing.B, n int) []Transport {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	ts := make([]Transport, n)
	for i := range ts {
		cc, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		sc, err := ln.Accept()
		if err != nil {
			b.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			io.Copy(io.Discard, cc)
		}()
		c := rtmp.NewConn(context.Background(), sc, nil, rtmp.ConnConfig{PingInterval: -1}, nil)
		b.Cleanup(func() {
			c.Close()
			cc.Close()
			<-done
		})
		ts[i] = c
	}
	return ts
}
