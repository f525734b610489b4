package session_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/rtmp"
	"github.com/flashvox/flashvox/rtmp/message"
)

// TestPeerBadNameAndKilledPublisher: a second ffmpeg publishing a name in use
// is refused with NetStream.Publish.BadName; SIGKILL of the first gives every
// player UnpublishNotify within 2 s.
func TestPeerBadNameAndKilledPublisher(t *testing.T) {
	srv := startServer(t, rtmpConfig())
	url := srv.URL("busy")
	first := testpeer.Start(t, 60*time.Second, "ffmpeg", "-hide_banner", "-loglevel", "error", "-re",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000", "-t", "30",
		"-c:a", "nellymoser", "-ar", "16000", "-ac", "1", "-f", "flv", url)
	testwait.For(t, 10*time.Second, "first publisher", func() bool { return srv.Hub.Published("live/busy") })

	out, err := testpeer.Run(t, 20*time.Second, "ffmpeg", "-hide_banner", "-loglevel", "error",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000", "-t", "2",
		"-c:a", "nellymoser", "-ar", "16000", "-ac", "1", "-f", "flv", url)
	if err == nil {
		t.Fatalf("second publisher must fail, ffmpeg said:\n%s", out)
	}
	if !bytes.Contains([]byte(out), []byte("already being published")) {
		t.Fatalf("ffmpeg must report the BadName description:\n%s", out)
	}

	players := make([]*player, 3)
	for i := range players {
		players[i] = dialPlayer(t, srv.App(), "busy")
	}
	for _, p := range players {
		testwait.For(t, 5*time.Second, "audio to flow", func() bool { return p.audioCount() > 3 })
	}
	first.Kill()
	killed := time.Now()
	for i, p := range players {
		testwait.For(t, 3*time.Second, fmt.Sprintf("UnpublishNotify at player %d", i), func() bool {
			return p.hasStatus("NetStream.Play.UnpublishNotify")
		})
	}
	if d := time.Since(killed); d > 2*time.Second {
		t.Fatalf("UnpublishNotify took %s", d)
	}
}

// TestPeerFiftySubscribers: one ffmpeg publisher, 50 Go players, every
// player receives every audio frame the publisher sent.
func TestPeerFiftySubscribers(t *testing.T) {
	srv := startServer(t, rtmpConfig())
	dir := t.TempDir()
	src := makeSource(t, dir, relayCases[0])
	tags, err := testpeer.ReadFLV(src)
	if err != nil {
		t.Fatal(err)
	}
	want := testpeer.AudioPayloads(tags)
	players := make([]*player, 50)
	for i := range players {
		players[i] = dialPlayer(t, srv.App(), "fifty")
	}
	testwait.For(t, 5*time.Second, "50 subscriptions", func() bool { return srv.Hub.SubscriberCount("live/fifty") == 50 })
	if out, err := testpeer.Run(t, 30*time.Second, "ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", src, "-c", "copy", "-f", "flv", srv.URL("fifty")); err != nil {
		t.Fatalf("publish: %v\n%s", err, out)
	}
	for i, p := range players {
		testwait.For(t, 5*time.Second, fmt.Sprintf("player %d to get all %d frames", i, len(want)), func() bool {
			return p.hasStatus("NetStream.Play.UnpublishNotify")
		})
		equalPayloads(t, fmt.Sprintf("player %d", i), want, p.payloads(), false)
	}
	if d := srv.Hub.Stats.DroppedFrame.Load(); d != 0 {
		t.Fatalf("%d frames dropped", d)
	}
}

// TestPeerTimestampsPast2p24 publishes across the 24-bit timestamp limit
// (extended timestamps); a Go player and rtmpdump both get every frame with
// the right, increasing timestamps.
func TestPeerTimestampsPast2p24(t *testing.T) {
	srv := startServer(t, rtmpConfig())
	const start = 1<<24 - 1000 // 16,776,216 ms: crosses 2^24 after one second
	p := dialPlayer(t, srv.App(), "ext")
	rdOut := filepath.Join(t.TempDir(), "ext.flv")
	rd := testpeer.Start(t, 30*time.Second, "rtmpdump", "-q", "-r", srv.URL("ext"), "--live", "-o", rdOut)
	testwait.For(t, 10*time.Second, "two subscribers", func() bool { return srv.Hub.SubscriberCount("live/ext") == 2 })

	c, id := dialPublisher(t, srv.App(), "ext")
	const frames = 150 // 2.4 s of 16 ms frames
	for i := range frames {
		payload := append([]byte{0x42}, bytes.Repeat([]byte{byte(i)}, 64)...)
		if err := c.WriteAudio(id, uint32(start+16*i), payload); err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 {
			time.Sleep(20 * time.Millisecond) // pace a little, as a live source would
		}
	}
	if err := c.DeleteStream(id); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 5*time.Second, "all frames at the Go player", func() bool { return p.audioCount() == frames })
	p.mu.Lock()
	for i, m := range p.audio {
		if want := uint32(start + 16*i); m.Timestamp != want || m.Payload[1] != byte(i) {
			p.mu.Unlock()
			t.Fatalf("frame %d: ts %d payload %d, want ts %d", i, m.Timestamp, m.Payload[1], want)
		}
	}
	p.mu.Unlock()
	select {
	case <-rd.Done():
	case <-time.After(5 * time.Second):
		rd.Stop()
	}
	tags, err := testpeer.ReadFLV(rdOut)
	if err != nil {
		t.Fatal(err)
	}
	var audio []testpeer.Tag
	for _, tg := range tags {
		if tg.Type == 8 {
			audio = append(audio, tg)
		}
	}
	if len(audio) != frames {
		t.Fatalf("rtmpdump got %d frames, want %d", len(audio), frames)
	}
	// rtmpdump rebases timestamps to its first frame.
	for i, tg := range audio {
		if got, want := tg.Timestamp-audio[0].Timestamp, uint32(16*i); got != want {
			t.Fatalf("rtmpdump frame %d: relative ts %d, want %d", i, got, want)
		}
	}
}

// TestTwoPublishesTwoPlaysOneConnection: a phone-like client publishes two
// streams and plays two on one NetConnection.
func TestTwoPublishesTwoPlaysOneConnection(t *testing.T) {
	srv := startServer(t, rtmpConfig())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var mu sync.Mutex
	got := map[uint32][]byte{} // stream id -> first payload byte of each audio message
	c, err := rtmp.Dial(ctx, srv.App(), rtmp.ClientOptions{
		OnMessage: func(m *message.Message) {
			if m.Type == message.TypeAudio {
				mu.Lock()
				got[m.StreamID] = append(got[m.StreamID], m.Payload[1])
				mu.Unlock()
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ids := make([]uint32, 4)
	for i := range ids {
		if ids[i], err = c.CreateStream(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Streams 0,1 publish "a","b"; streams 2,3 play "b","a" on the same connection.
	for i, name := range []string{"a", "b"} {
		if err := c.Publish(ctx, ids[i], name, "live"); err != nil {
			t.Fatal(err)
		}
	}
	for i, name := range []string{"b", "a"} {
		if err := c.Play(ctx, ids[2+i], name); err != nil {
			t.Fatal(err)
		}
	}
	for n := range 20 {
		if err := c.WriteAudio(ids[0], uint32(n*20), []byte{0x42, 'a'}); err != nil {
			t.Fatal(err)
		}
		if err := c.WriteAudio(ids[1], uint32(n*20), []byte{0x42, 'b'}); err != nil {
			t.Fatal(err)
		}
	}
	testwait.For(t, 5*time.Second, "40 frames back", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got[ids[2]]) == 20 && len(got[ids[3]]) == 20
	})
	mu.Lock()
	defer mu.Unlock()
	if !bytes.Equal(got[ids[2]], bytes.Repeat([]byte{'b'}, 20)) || !bytes.Equal(got[ids[3]], bytes.Repeat([]byte{'a'}, 20)) {
		t.Fatalf("streams crossed: %q / %q", got[ids[2]], got[ids[3]])
	}
}

// TestPublishBadNameGoClient checks the status a Go client sees.
func TestPublishBadNameGoClient(t *testing.T) {
	srv := startServer(t, rtmpConfig())
	dialPublisher(t, srv.App(), "x")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := rtmp.Dial(ctx, srv.App(), rtmp.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	id, err := c.CreateStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Publish(ctx, id, "x", "live")
	var se *rtmp.StatusError
	if !errors.As(err, &se) || !bytes.Contains([]byte(se.Error()), []byte("NetStream.Publish.BadName")) {
		t.Fatalf("want BadName, got %v", err)
	}
}

// TestPublishGuardRefusedGoClient: a name the hub's guard refuses (a
// cluster: published on another node) gets the same BadName status, and
// another name is published.
func TestPublishGuardRefusedGoClient(t *testing.T) {
	srv := startServer(t, rtmpConfig())
	srv.Hub.SetPublishGuard(func(key string) (func(*media.Publisher), error) {
		if key == "live/elsewhere" {
			return nil, errors.New("published on another node of the cluster")
		}
		return func(*media.Publisher) {}, nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := rtmp.Dial(ctx, srv.App(), rtmp.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	id, err := c.CreateStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Publish(ctx, id, "elsewhere", "live")
	var se *rtmp.StatusError
	if !errors.As(err, &se) || !bytes.Contains([]byte(se.Error()), []byte("NetStream.Publish.BadName")) || srv.Hub.Published("live/elsewhere") {
		t.Fatalf("want BadName, got %v", err)
	}
	if err := c.Publish(ctx, id, "here", "live"); err != nil || !srv.Hub.Published("live/here") {
		t.Fatalf("a free name: %v", err)
	}
}
