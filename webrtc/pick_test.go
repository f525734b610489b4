package webrtc_test

import (
	"testing"

	"github.com/flashvox/flashvox/codec"
	fvrtc "github.com/flashvox/flashvox/webrtc"
)

// TestWHEPPicksTheStreamsCodec: a player offering Opus first and PCMU too
// (as a browser does) gets a PCMU stream (a SIP leg's) in PCMU, passed
// through, not transcoded to Opus; a stream with no audio yet gets the
// edge's first choice, Opus.
func TestWHEPPicksTheStreamsCodec(t *testing.T) {
	e := startEdge(t, nil, fvrtc.Options{})
	pub, err := e.st.Hub.Publish("live/sip")
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	publishFrames(t, pub, codec.PCMU, 8000, numbered, func() bool { return e.st.Hub.AudioCodec("live/sip") == codec.PCMU })
	p := playRTP(t, codecAPI(t, pionOpus, pionPCMU), e.url+"/live/sip/whep")
	publishFrames(t, pub, codec.PCMU, 8000, numbered, func() bool { return len(p.got()) >= 20 })
	if n, all := len(p.of(uint8(pionPCMU.pt))), len(p.got()); n != all {
		t.Fatalf("%d of %d packets in PCMU", n, all)
	}
	if e.srv.Stats.PassedThrough.Load() == 0 || e.srv.Stats.Transcoded.Load() != 0 {
		t.Fatalf("passed through %d, transcoded %d", e.srv.Stats.PassedThrough.Load(), e.srv.Stats.Transcoded.Load())
	}
	if e.st.Hub.AudioCodec("live/none") != 0 {
		t.Fatal("a stream that does not exist has a codec")
	}
}

// TestWHEPPicksTheDeclaredCodec: a player that arrives before the
// stream's first frame gets the codec its publisher declared (a SIP leg's
// negotiated codec) rather than Opus, and every frame passes through.
func TestWHEPPicksTheDeclaredCodec(t *testing.T) {
	e := startEdge(t, nil, fvrtc.Options{})
	pub, err := e.st.Hub.Publish("live/leg")
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	pub.DeclareAudioCodec(codec.PCMU)
	p := playRTP(t, codecAPI(t, pionOpus, pionPCMU), e.url+"/live/leg/whep")
	publishFrames(t, pub, codec.PCMU, 8000, numbered, func() bool { return len(p.got()) >= 20 })
	if n, all := len(p.of(uint8(pionPCMU.pt))), len(p.got()); n != all {
		t.Fatalf("%d of %d packets in PCMU", n, all)
	}
	if e.srv.Stats.PassedThrough.Load() == 0 || e.srv.Stats.Transcoded.Load() != 0 {
		t.Fatalf("passed through %d, transcoded %d", e.srv.Stats.PassedThrough.Load(), e.srv.Stats.Transcoded.Load())
	}
}
