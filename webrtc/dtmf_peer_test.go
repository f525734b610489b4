//go:build cgo

package webrtc_test

import (
	"sync"
	"testing"
	"time"

	pionwebrtc "github.com/pion/webrtc/v4"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/media"
	fvrtc "github.com/flashvox/flashvox/webrtc"
)

// whipRaw publishes through WHIP at url with a raw track of PCMU and
// telephone-event/8000 (testpeer.PionDTMFPublisher).
func whipRaw(t *testing.T, url string) *testpeer.RawTrack {
	t.Helper()
	pc, tr := testpeer.PionDTMFPublisher(t)
	negotiate(t, pc, url)
	// Connected before the caller's first packet: the tests send each
	// digit's packets once.
	testwait.For(t, 10*time.Second, "the WHIP publisher connected", func() bool {
		return pc.ConnectionState() == pionwebrtc.PeerConnectionStateConnected
	})
	return tr
}

// dtmfFrames collects the KindDTMF frames of key.
func dtmfFrames(t *testing.T, hub *media.Hub, key string) func() string {
	var mu sync.Mutex
	var got []byte
	sub := hub.Subscribe(key, media.ReceiverFunc(func(f *media.Frame) {
		if f.Kind == media.KindDTMF {
			mu.Lock()
			got = append(got, f.Payload...)
			mu.Unlock()
		}
	}))
	t.Cleanup(sub.Close)
	return func() string { mu.Lock(); defer mu.Unlock(); return string(got) }
}

// TestWHIPDTMF: a publisher's RFC 4733 digits (each event's packets:
// updates and three ends) become one KindDTMF frame per digit on its
// stream, in order, among its PCMU audio.
func TestWHIPDTMF(t *testing.T) {
	e := startEdge(t, nil, fvrtc.Options{})
	got := dtmfFrames(t, e.st.Hub, "live/d")
	tr := whipRaw(t, e.url+"/live/d/whip")
	digits := []uint8{1, 5, 11} // "15#"
	ts := uint32(1000)
	i := 0
	testwait.For(t, 10*time.Second, "the digits 15# on the stream", func() bool {
		// One 20 ms step of media per poll: audio, and while digits
		// remain one event packet (5 updates, 3 ends per digit).
		tr.Send("audio/pcmu", ts+uint32(i)*160, i == 0, make([]byte, 160))
		if d := i / 8; d < len(digits) {
			k := i % 8
			evTS := uint32(50000 + d*2000)
			tr.Send("audio/telephone-event", evTS, k == 0, testpeer.DTMFDigit(digits[d])[k])
		}
		i++
		return got() == "15#"
	})
	if n := e.srv.Stats.DTMFIn.Load(); n != 3 {
		t.Fatalf("DTMFIn %d, want 3", n)
	}
}

// TestWHIPDTMFFlood: a publisher that floods distinct events (each its own
// timestamp, each ended) gets a bounded number of digits published; the
// rest are counted dropped.
func TestWHIPDTMFFlood(t *testing.T) {
	e := startEdge(t, nil, fvrtc.Options{})
	got := dtmfFrames(t, e.st.Hub, "live/f")
	tr := whipRaw(t, e.url+"/live/f/whip")
	sent := 0
	start := time.Now()
	testwait.For(t, 10*time.Second, "the flood to be cut", func() bool {
		for range 50 {
			if tr.Send("audio/telephone-event", uint32(sent)*8, true, testpeer.DTMFEvent(uint8(sent%10), true, 160)) {
				sent++
			}
		}
		return e.srv.Stats.DTMFDropped.Load() > 100
	})
	// The bound is a rate: a burst of 20, then 10 a second of the flood.
	limit := 20 + int(10*time.Since(start).Seconds()) + 1
	if n := len(got()); n < 1 || n > limit {
		t.Fatalf("%d digits published of %d sent, want 1..%d (burst 20, 10/s)", n, sent, limit)
	}
}

// TestWHEPDTMF: KindDTMF frames on a stream reach a WHEP player that
// negotiated telephone-event as RFC 4733 packets on the audio SSRC: per
// digit a marked start, updates and three end packets.
func TestWHEPDTMF(t *testing.T) {
	e := startEdge(t, nil, fvrtc.Options{})
	pub, err := e.st.Hub.Publish("live/k")
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	p := playRTP(t, codecAPI(t, pionPCMU, pionEv8k), e.url+"/live/k/whep")
	sentDigits := false
	publishFrames(t, pub, codec.PCMU, 8000, numbered, func() bool {
		if !sentDigits && len(p.got()) > 5 {
			pub.Write(&media.Frame{Kind: media.KindDTMF, Payload: []byte("7#")})
			sentDigits = true
		}
		return len(p.of(uint8(pionEv8k.pt))) >= 16
	})
	evs := p.of(uint8(pionEv8k.pt))
	var digits []byte
	for _, k := range evs {
		if k.Payload[1]&0x80 != 0 && k.Marker {
			t.Fatal("an end packet with the marker")
		}
		if k.Marker {
			digits = append(digits, "0123456789*#"[k.Payload[0]])
		}
		if k.SSRC != p.of(0)[0].SSRC {
			t.Fatal("events on another SSRC than the audio")
		}
	}
	if string(digits) != "7#" {
		t.Fatalf("digits %q, want 7#", digits)
	}
	if evs[0].Timestamp == evs[8].Timestamp {
		t.Fatal("two digits with one event timestamp")
	}
	if n := e.srv.Stats.DTMFOut.Load(); n != 2 {
		t.Fatalf("DTMFOut %d, want 2", n)
	}
}

// TestDTMFWHIPToWHEP: a WHIP publisher's digit reaches a WHEP player of its
// stream as RFC 4733 events (publisher → DTMF frame → player).
func TestDTMFWHIPToWHEP(t *testing.T) {
	e := startEdge(t, nil, fvrtc.Options{})
	p := playRTP(t, codecAPI(t, pionPCMU, pionEv8k), e.url+"/live/e/whep")
	tr := whipRaw(t, e.url+"/live/e/whip")
	// The digit goes once the player hears the audio: packets sent before
	// both sessions connected are lost (a loaded machine connects late).
	i, first := 0, -1
	testwait.For(t, 10*time.Second, "the player to get the digit 9", func() bool {
		tr.Send("audio/pcmu", uint32(i)*160, i == 0, make([]byte, 160))
		if first < 0 && len(p.of(0)) >= 3 {
			first = i
		}
		if k := i - first; first >= 0 && k < 8 { // one event: 5 updates, 3 ends
			tr.Send("audio/telephone-event", uint32(first)*160, k == 0, testpeer.DTMFDigit(9)[k])
		}
		i++
		for _, k := range p.of(uint8(pionEv8k.pt)) {
			if k.Marker && k.Payload[0] == 9 {
				return true
			}
		}
		return false
	})
}
