package session_test

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/rtmp"
	"github.com/flashvox/flashvox/rtmp/message"
	"github.com/flashvox/flashvox/rtmp/rtmpt"
)

// BenchmarkTransportDelay: a 16 kHz Nellymoser-sized stream (65-byte tags
// every 16 ms) published over RTMP and played over each transport; reports
// the publisher-to-player delay (p50, p99) and the server's CPU per second
// of stream is visible with -cpuprofile. One b.N iteration is 2 s of stream.
func BenchmarkTransportDelay(b *testing.B) {
	for _, scheme := range []string{"rtmp", "rtmpt"} {
		b.Run(scheme, func(b *testing.B) {
			srv := startServer(b, rtmpConfig())
			tr := startTransports(b, srv, rtmpt.Options{})
			opts := rtmp.ClientOptions{TLSConfig: &tls.Config{InsecureSkipVerify: true}}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var mu sync.Mutex
			var delays []time.Duration
			started := make(chan struct{}, 1)
			popts := opts
			popts.OnMessage = func(m *message.Message) {
				if m.Type == message.TypeAudio && len(m.Payload) >= 9 {
					sent := time.Unix(0, int64(binary.BigEndian.Uint64(m.Payload[1:])))
					mu.Lock()
					delays = append(delays, time.Since(sent))
					mu.Unlock()
				}
			}
			popts.OnStatus = func(_ uint32, info *amf.Object) {
				if info.GetString("code") == "NetStream.Play.Start" {
					started <- struct{}{}
				}
			}
			player, err := rtmp.Dial(ctx, tr.App(scheme), popts)
			if err != nil {
				b.Fatal(err)
			}
			defer player.Close()
			ps, _ := player.CreateStream(ctx)
			if err := player.Play(ctx, ps, "delay"); err != nil {
				b.Fatal(err)
			}
			<-started
			pub, id := dialPublisher(b, srv.App(), "delay")
			b.ResetTimer()
			frame := make([]byte, 65)
			frame[0] = 0x42
			tick := time.NewTicker(16 * time.Millisecond)
			defer tick.Stop()
			n := 0
			for range b.N {
				for range 125 {
					<-tick.C
					binary.BigEndian.PutUint64(frame[1:], uint64(time.Now().UnixNano()))
					pub.WriteAudio(id, uint32(16*n), slices.Clone(frame))
					n++
				}
			}
			time.Sleep(500 * time.Millisecond)
			b.StopTimer()
			mu.Lock()
			defer mu.Unlock()
			if len(delays) < n*9/10 {
				b.Fatalf("%d of %d frames arrived", len(delays), n)
			}
			slices.Sort(delays)
			b.ReportMetric(float64(delays[len(delays)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(delays[len(delays)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
