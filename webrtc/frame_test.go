package webrtc

import (
	"bytes"
	"testing"

	"github.com/flashvox/flashvox/media"
)

// TestNewAudioFrameCopies: the frame owns a copy of the read buffer's
// payload (publishLoop reuses the buffer for the next packet), inline or
// not; an inline payload's capacity ends where it does.
func TestNewAudioFrameCopies(t *testing.T) {
	for _, n := range []int{1, 160, inlinePayload, inlinePayload + 1, 1280} {
		src := bytes.Repeat([]byte{0xab}, n)
		f := newAudioFrame(src)
		if f.Kind != media.KindAudio || !bytes.Equal(f.Payload, src) {
			t.Fatalf("%d bytes: kind %v, payload %d bytes equal=%v", n, f.Kind, len(f.Payload), bytes.Equal(f.Payload, src))
		}
		src[0] = 0 // the next packet overwrites the read buffer
		if f.Payload[0] != 0xab {
			t.Fatalf("%d bytes: the frame shares the read buffer", n)
		}
		if n <= inlinePayload && cap(f.Payload) != n {
			t.Fatalf("%d bytes: cap %d, an append would write into the frame's spare inline bytes", n, cap(f.Payload))
		}
	}
}

// TestNewAudioFrameOneAllocation: a 20 ms PCMU payload costs one
// allocation, frame and payload together.
func TestNewAudioFrameOneAllocation(t *testing.T) {
	src := make([]byte, 160)
	var keep *media.Frame
	if a := testing.AllocsPerRun(100, func() { keep = newAudioFrame(src) }); a != 1 {
		t.Fatalf("%v allocations per frame, want 1", a)
	}
	_ = keep
}
