//go:build cgo

package conference

import (
	"context"
	"testing"
	"time"

	"github.com/flashvox/flashvox/codec"
)

// A WebRTC member (the web page) that joins a mixed room asking for Opus
// hears its mix in Opus at 48 kHz from the first frame, whatever the
// others send, so the WHEP edge passes it through without a transcoder.
func TestMixInOpus(t *testing.T) {
	id, err := ParseCodec("opus")
	if err != nil || id != codec.Opus {
		t.Fatalf("ParseCodec(opus) = %v, %v", id, err)
	}
	s := newTestService(t, Options{DefaultMode: ModeMixed})
	h := s.opts.Hub
	m, j, err := s.Join("r", JoinOptions{User: "alice", Codec: id})
	if err != nil || j.Play == "" {
		t.Fatalf("join: %+v %v", j, err)
	}
	other, _, err := s.Join("r", JoinOptions{User: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1200*time.Millisecond)
	defer cancel()
	got := make(chan []codec.ID)
	go func() { got <- mixCodecs(ctx, h, m.PlayKey()) }()
	go talker(ctx, t, h, other.PublishKey(), codec.Speex, 700)
	go talker(ctx, t, h, m.PublishKey(), codec.Opus, 500)
	oneCodec(t, "opus member", <-got, codec.Opus)
}
