package session_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/rtmp"
	"github.com/flashvox/flashvox/rtmp/message"
	"github.com/flashvox/flashvox/rtmp/rtmpt"
)

// TestTransportsGoClient: our own client publishes and plays over every
// transport; a player on each other transport gets every payload in order.
func TestTransportsGoClient(t *testing.T) {
	srv := startServer(t, rtmpConfig())
	tr := startTransports(t, srv, rtmpt.Options{})
	schemes := []string{"rtmp", "rtmpe", "rtmps", "rtmpt", "rtmpte", "rtmpts"}
	opts := rtmp.ClientOptions{TLSConfig: &tls.Config{InsecureSkipVerify: true}}
	for i, pub := range schemes {
		play := schemes[(i+1)%len(schemes)]
		t.Run(pub+"-to-"+play, func(t *testing.T) {
			name := "go-" + pub
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var mu sync.Mutex
			var got [][]byte
			started := make(chan struct{}, 1)
			popts := opts
			popts.OnMessage = func(m *message.Message) {
				if m.Type == message.TypeAudio {
					mu.Lock()
					got = append(got, m.Payload)
					mu.Unlock()
				}
			}
			popts.OnStatus = func(_ uint32, info *amf.Object) {
				if info.GetString("code") == "NetStream.Play.Start" {
					started <- struct{}{}
				}
			}
			player, err := rtmp.Dial(ctx, tr.App(play), popts)
			if err != nil {
				t.Fatalf("dial %s: %v", play, err)
			}
			defer player.Close()
			ps, err := player.CreateStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := player.Play(ctx, ps, name); err != nil {
				t.Fatal(err)
			}
			<-started
			pubc, err := rtmp.Dial(ctx, tr.App(pub), opts)
			if err != nil {
				t.Fatalf("dial %s: %v", pub, err)
			}
			defer pubc.Close()
			id, err := pubc.CreateStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := pubc.Publish(ctx, id, name, "live"); err != nil {
				t.Fatal(err)
			}
			var want [][]byte
			for n := range 50 {
				p := []byte(fmt.Sprintf("\x42frame %03d over %s", n, pub))
				want = append(want, p)
				if err := pubc.WriteAudio(id, uint32(16*n), p); err != nil {
					t.Fatal(err)
				}
			}
			testwait.For(t, 5*time.Second, "50 frames at the player", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(got) >= len(want)
			})
			mu.Lock()
			defer mu.Unlock()
			equalPayloads(t, pub+" to "+play, want, got, false)
		})
	}
}
