package webrtc_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/media"
	fvrtc "github.com/flashvox/flashvox/webrtc"
	pionwebrtc "github.com/pion/webrtc/v4"
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
	e, pub := declaredPCMU(t)
	p := playRTP(t, codecAPI(t, pionOpus, pionPCMU), e.url+"/live/leg/whep")
	publishFrames(t, pub, codec.PCMU, 8000, numbered, func() bool { return len(p.got()) >= 20 })
	if n, all := len(p.of(uint8(pionPCMU.pt))), len(p.got()); n != all {
		t.Fatalf("%d of %d packets in PCMU", n, all)
	}
	if e.srv.Stats.PassedThrough.Load() == 0 || e.srv.Stats.Transcoded.Load() != 0 {
		t.Fatalf("passed through %d, transcoded %d", e.srv.Stats.PassedThrough.Load(), e.srv.Stats.Transcoded.Load())
	}
}

// TestWHEPTranscodedFromTheFirstFrame: an Opus-only player of a stream
// whose publisher declared PCMU before its first frame (a SIP leg) gets
// every frame, the first too: the player is on the transcoder from its
// start. Moving at the first frame in another codec lost that frame, 20
// ms at every transcoded call's start (and skewed bench/sipwebrtc's
// delay by a frame).
func TestWHEPTranscodedFromTheFirstFrame(t *testing.T) {
	e, pub := declaredPCMU(t)
	everyFrameInOpus(t, e, pub, "/live/leg/whep")
}

// TestWHEPTranscodedFromAnUndeclaredFirstFrame: the same for a stream
// whose publisher declared no codec (an RTMP or RTMFP publisher): the
// player moves to the transcoder at the first frame, which the
// transcoder it starts then codes first (transcode.Target.Missed). It
// used to be lost.
func TestWHEPTranscodedFromAnUndeclaredFirstFrame(t *testing.T) {
	e := startEdge(t, nil, fvrtc.Options{})
	pub, err := e.st.Hub.Publish("live/rtmp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pub.Close)
	everyFrameInOpus(t, e, pub, "/live/rtmp/whep")
}

// everyFrameInOpus plays path with an Opus-only player and checks that
// each of ten PCMU frames pub writes then is played, transcoded (the
// second written once a transcoder runs, as real time would).
func everyFrameInOpus(t *testing.T, e *edge, pub *media.Publisher, path string) {
	t.Helper()
	pc, err := codecAPI(t, pionOpus).NewPeerConnection(pionwebrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	p, _ := recvRTP(t, pc)
	negotiate(t, pc, e.url+path)
	testwait.For(t, 10*time.Second, "the player connected", func() bool {
		return pc.ConnectionState() == pionwebrtc.PeerConnectionStateConnected
	})
	const frames = 10
	for i := range frames {
		pub.Write(&media.Frame{Kind: media.KindAudio, Codec: codec.PCMU, Rate: 8000, Channels: 1, Timestamp: uint32(i * 20), Payload: numbered(i)})
		if i == 0 {
			// As at 20 ms a frame: the next comes once the player moved.
			testwait.For(t, 5*time.Second, "the transcoder", func() bool { return e.st.Transcoder.Stats.Transcoders.Load() == 1 })
		}
	}
	testwait.ForDetail(t, 10*time.Second, "every frame played in Opus", func() bool { return len(p.of(uint8(pionOpus.pt))) >= frames },
		func() string { return fmt.Sprintf("%d of %d", len(p.of(uint8(pionOpus.pt))), frames) })
	if e.srv.Stats.Transcoded.Load() < frames {
		t.Errorf("%d frames counted transcoded, want %d", e.srv.Stats.Transcoded.Load(), frames)
	}
}

// declaredPCMU starts an edge and publishes live/leg declaring PCMU before
// any frame, as a SIP leg does.
func declaredPCMU(t *testing.T) (*edge, *media.Publisher) {
	t.Helper()
	e := startEdge(t, nil, fvrtc.Options{})
	pub, err := e.st.Hub.Publish("live/leg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pub.Close)
	pub.DeclareAudioCodec(codec.PCMU)
	return e, pub
}
