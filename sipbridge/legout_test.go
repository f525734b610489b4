package sipbridge

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/media/transcode"
)

// runLeg runs out's writer until the returned stop, which waits for it
// (a writer error fails the test).
func runLeg(t *testing.T, out *legOut) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := out.run(ctx); err != nil {
			t.Errorf("writer: %v", err)
		}
	}()
	return func() { cancel(); <-done }
}

func pcm(id codec.ID, ms uint32) *media.Frame {
	return &media.Frame{Kind: media.KindAudio, Codec: id, Rate: 8000, Channels: 1, Timestamp: ms, Payload: make([]byte, 160)}
}

// TestLegOutInlineThenTranscoder: a SIP leg's frames in the call's codec
// are sent inside the publisher's Write (no transcoder, no writer
// wake-up); while the writer is busy with a paced digit the publisher's
// Writes still return at once and the audio follows the digit in order,
// none lost; the first frame in another codec moves the leg to a shared
// transcoder, whose frames the writer sends, that first one included.
func TestLegOutInlineThenTranscoder(t *testing.T) {
	h := media.NewHub(64, nil)
	tc := transcode.New(h, nil)
	pub, err := h.Publish("web/a")
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	ch := &captureChannel{}
	st := &Stats{}
	m := &mediaBridge{ch: ch, hub: h, tc: tc, stats: st, log: slog.New(slog.DiscardHandler), dtmf: make(chan string, 1)}
	c := rtpCodec{ID: codec.PCMU, PayloadType: 0, ClockRate: 8000, DTMF: true, DTMFType: 101}
	out := newLegOut(m, c)
	out.subscribe("web/a")
	stop := runLeg(t, out)

	for i := range uint32(3) {
		pub.Write(pcm(codec.PCMU, 20*i))
	}
	if n := st.RTPOut.Load(); n != 3 || out.in.Delivered() != 3 {
		t.Fatalf("%d packets sent, %d inline, right after Write; want 3 and 3", n, out.in.Delivered())
	}

	m.dtmf <- "5"
	testwait.For(t, 5*time.Second, "the digit's first packet", func() bool { return st.RTPOut.Load() > 3 })
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		for i := range uint32(10) {
			pub.Write(pcm(codec.PCMU, 60+20*i))
		}
	}()
	select {
	case <-wrote:
	case <-time.After(5 * time.Second):
		t.Fatal("the publisher is stalled while the leg sends a digit")
	}
	perDigit := uint64(dtmfPackets + 3)
	testwait.For(t, 5*time.Second, "the digit and the 10 frames after it", func() bool {
		return st.RTPOut.Load() == 3+perDigit+10
	})

	pub.Write(pcm(codec.PCMA, 260)) // the page changed codec
	testwait.For(t, 5*time.Second, "a transcoder to PCMU", func() bool { return tc.Stats.Transcoders.Load() == 1 })
	for i := range uint32(5) {
		pub.Write(pcm(codec.PCMA, 280+20*i))
	}
	// All six: the transcoder the leg started codes the frame that moved
	// it first (transcode.Target.Missed).
	testwait.ForDetail(t, 5*time.Second, "every transcoded frame sent", func() bool { return st.FramesTranscoded.Load() == 6 },
		func() string { return fmt.Sprintf("%d of 6", st.FramesTranscoded.Load()) })
	stop()
	out.close()
	testwait.For(t, 5*time.Second, "the transcoder stopped", func() bool { return tc.Stats.Transcoders.Load() == 0 })

	// Order: audio timestamps only grow, the digit's events sit between
	// the first 3 frames and the 10 after it.
	var last uint32
	events := 0
	for i, p := range ch.pkts {
		if p.PayloadType == 101 {
			events++
			if i < 3 || i >= 3+int(perDigit) {
				t.Errorf("event packet %d out of place", i)
			}
			continue
		}
		if i > 0 && int32(p.Timestamp-last) <= 0 {
			t.Errorf("audio packet %d at %d after %d: out of order", i, p.Timestamp, last)
		}
		last = p.Timestamp
	}
	if events != int(perDigit) {
		t.Errorf("%d event packets, want %d", events, perDigit)
	}
}

// TestLegOutDeclaredCodecTranscodesFromTheStart: a stream that declared
// another codec before its first frame (a page's WHIP) is played through
// the transcoder from the subscription on, so its first frame reaches the
// phone too.
func TestLegOutDeclaredCodecTranscodesFromTheStart(t *testing.T) {
	h := media.NewHub(64, nil)
	tc := transcode.New(h, nil)
	pub, err := h.Publish("web/b")
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	pub.DeclareAudioCodec(codec.PCMA)
	st := &Stats{}
	m := &mediaBridge{ch: &captureChannel{}, hub: h, tc: tc, stats: st, log: slog.New(slog.DiscardHandler), dtmf: make(chan string, 1)}
	out := newLegOut(m, rtpCodec{ID: codec.PCMU, PayloadType: 0, ClockRate: 8000})
	out.subscribe("web/b")
	defer out.close()
	if n := tc.Stats.Transcoders.Load(); n != 1 {
		t.Fatalf("%d transcoders after subscribing to a PCMA stream, want 1", n)
	}
	stop := runLeg(t, out)
	pub.Write(pcm(codec.PCMA, 0))
	testwait.For(t, 5*time.Second, "the first frame transcoded and sent", func() bool { return st.FramesTranscoded.Load() == 1 })
	stop()
}
