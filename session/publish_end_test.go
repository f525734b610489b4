package session_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/rtmp"
)

// TestPublishEndedGoClient: a publication the server ends (media
// Publisher.End; in a cluster, the name went to another node's
// publisher) gets NetStream.Publish.BadName on its stream, its players
// an unpublish; the client's later media is dropped, and the stream may
// publish again (here: another name).
func TestPublishEndedGoClient(t *testing.T) {
	srv := startServer(t, rtmpConfig())
	var mu sync.Mutex
	pubs := map[string]*media.Publisher{}
	srv.Hub.SetPublishGuard(func(key string) (func(*media.Publisher), error) {
		return func(p *media.Publisher) {
			mu.Lock()
			defer mu.Unlock()
			pubs[key] = p
		}, nil
	})
	var smu sync.Mutex
	var codes []string
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := rtmp.Dial(ctx, srv.App(), rtmp.ClientOptions{OnStatus: func(_ uint32, info *amf.Object) {
		smu.Lock()
		defer smu.Unlock()
		codes = append(codes, info.GetString("code"))
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	id, err := c.CreateStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Publish(ctx, id, "ended", "live"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	p := pubs["live/ended"]
	mu.Unlock()
	if p == nil || !srv.Hub.Published("live/ended") {
		t.Fatal("the guard did not get the publisher")
	}
	p.End(errors.New("published on another node of the cluster"))
	testwait.For(t, 5*time.Second, "the client hears BadName", func() bool {
		smu.Lock()
		defer smu.Unlock()
		return len(codes) > 0 && codes[len(codes)-1] == "NetStream.Publish.BadName"
	})
	if err := c.WriteAudio(id, 0, []byte{0x62, 1, 2}); err != nil || srv.Hub.Published("live/ended") {
		t.Fatalf("after the end: write %v, published %v", err, srv.Hub.Published("live/ended"))
	}
	if err := c.Publish(ctx, id, "again", "live"); err != nil || !srv.Hub.Published("live/again") {
		t.Fatalf("the stream publishes again: %v", err)
	}
}
