package session_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/opus"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/media/transcode"
)

// TestPlainPlayOfOpusGetsSpeex: FLV has no Opus, so a plain play of an
// Opus stream (a WHIP publisher) gets Speex 16 kHz through the shared
// transcoder, every frame, the first that started it too, and the
// transcoder stops with the play.
func TestPlainPlayOfOpusGetsSpeex(t *testing.T) {
	srv := startServer(t, rtmpConfig())
	pub, err := srv.Hub.Publish("live/o")
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	p := dialPlayer(t, srv.App(), "o")
	enc, err := opus.NewEncoder(48000, opus.EncoderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	pcm := audiotest.Sine(48000, 48000, 440, 0.3)
	for i := 0; i+960 <= len(pcm); i += 960 {
		pkt, err := enc.Encode(nil, pcm[i:i+960])
		if err != nil {
			t.Fatal(err)
		}
		pub.Write(&media.Frame{Kind: media.KindAudio, Codec: codec.Opus, Rate: 48000, Channels: 1, Timestamp: uint32(i / 48), Payload: pkt})
		if i == 0 { // the transcoder starts at the first Opus frame, off the publisher's goroutine
			testwait.For(t, 5*time.Second, "the fallback transcoder", func() bool {
				return srv.Hub.Published(transcode.Key("live/o", codec.Speex, 16000))
			})
		}
	}
	testwait.ForDetail(t, 5*time.Second, "Speex audio, every frame", func() bool { return p.audioCount() == 50 },
		func() string { return fmt.Sprintf("%d of 50", p.audioCount()) })
	for _, b := range p.payloads() {
		if len(b) == 0 || b[0]>>4 != 11 {
			t.Fatalf("audio tag %x…: want Speex (SoundFormat 11)", b[:min(len(b), 4)])
		}
	}
	p.c.Close()
	testwait.For(t, 5*time.Second, "the transcoder to stop", func() bool { return srv.Transcoder.Stats.Transcoders.Load() == 0 })
}
