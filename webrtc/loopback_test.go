//go:build cgo

package webrtc_test

import (
	"context"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	pionwebrtc "github.com/pion/webrtc/v4"
	pmedia "github.com/pion/webrtc/v4/pkg/media"

	"github.com/flashvox/flashvox/codec/opus"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	fvrtc "github.com/flashvox/flashvox/webrtc"
)

// loopbackAPI is a pion client that uses 127.0.0.1 only.
func loopbackAPI() *pionwebrtc.API {
	var s pionwebrtc.SettingEngine
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	s.SetIncludeLoopbackCandidate(true)
	s.SetIPFilter(func(ip net.IP) bool { return ip.Equal(net.IPv4(127, 0, 0, 1)) })
	s.SetNetworkTypes([]pionwebrtc.NetworkType{pionwebrtc.NetworkTypeUDP4})
	return pionwebrtc.NewAPI(pionwebrtc.WithSettingEngine(s))
}

// negotiate posts pc's offer (after gathering) to url and applies the answer.
func negotiate(t *testing.T, pc *pionwebrtc.PeerConnection, url string) {
	t.Helper()
	ans, _ := offerAnswer(t, pc, url)
	if err := pc.SetRemoteDescription(pionwebrtc.SessionDescription{Type: pionwebrtc.SDPTypeAnswer, SDP: ans}); err != nil {
		t.Fatal(err)
	}
}

// offerAnswer posts pc's complete offer to url and returns the answer
// SDP and how long the POST took.
func offerAnswer(t *testing.T, pc *pionwebrtc.PeerConnection, url string) (string, time.Duration) {
	t.Helper()
	o, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	done := pionwebrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(o); err != nil {
		t.Fatal(err)
	}
	<-done
	start := time.Now()
	res, err := http.Post(url, "application/sdp", strings.NewReader(pc.LocalDescription().SDP))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	took := time.Since(start)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("POST %s: %d %s", url, res.StatusCode, b)
	}
	return string(b), took
}

// whipClient publishes through WHIP at url and returns its Opus track.
func whipClient(t *testing.T, api *pionwebrtc.API, url string) *pionwebrtc.TrackLocalStaticSample {
	t.Helper()
	pc, err := api.NewPeerConnection(pionwebrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	track, err := pionwebrtc.NewTrackLocalStaticSample(pionwebrtc.RTPCodecCapability{MimeType: pionwebrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "a", "s")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTransceiverFromTrack(track, pionwebrtc.RTPTransceiverInit{Direction: pionwebrtc.RTPTransceiverDirectionSendonly}); err != nil {
		t.Fatal(err)
	}
	negotiate(t, pc, url)
	return track
}

// whepClient plays through WHEP at url; the function it returns gives the
// Opus payloads received so far.
func whepClient(t *testing.T, api *pionwebrtc.API, url string) func() [][]byte {
	t.Helper()
	pc, err := api.NewPeerConnection(pionwebrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	if _, err := pc.AddTransceiverFromKind(pionwebrtc.RTPCodecTypeAudio, pionwebrtc.RTPTransceiverInit{Direction: pionwebrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		pkts [][]byte
	)
	pc.OnTrack(func(tr *pionwebrtc.TrackRemote, _ *pionwebrtc.RTPReceiver) {
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			mu.Lock()
			pkts = append(pkts, p.Payload)
			mu.Unlock()
		}
	})
	negotiate(t, pc, url)
	return func() [][]byte { mu.Lock(); defer mu.Unlock(); return slices.Clone(pkts) }
}

// TestLoopbackWHIPToWHEP: a Go WHIP client publishes a 440 Hz Opus tone, a
// Go WHEP client plays the name and decodes 440 Hz: the whole media path
// (ICE, DTLS-SRTP, RTP ⇄ hub frames) without a browser, on 127.0.0.1,
// with each engine (the rest of the package's tests use the default,
// lite, unless FLASHVOX_TEST_WEBRTC_ENGINE names another).
func TestLoopbackWHIPToWHEP(t *testing.T) {
	testpeer.SkipShort(t, "seconds of real-time media and timers")
	for _, engine := range []string{fvrtc.EngineLite, fvrtc.EnginePion} {
		t.Run(engine, func(t *testing.T) { loopbackWHIPToWHEP(t, engine) })
	}
}

func loopbackWHIPToWHEP(t *testing.T, engine string) {
	e := startEdge(t, nil, fvrtc.Options{Engine: engine})
	api := loopbackAPI()
	track := whipClient(t, api, e.url+"/live/loop/whip")
	received := whepClient(t, api, e.url+"/live/loop/whep")

	// Send the tone in real time (it is media, not a wait) until the
	// player has 2 s of it, or 15 s passed.
	enc, err := opus.NewEncoder(48000, opus.EncoderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	tone := audiotest.Sine(48000, 48000, 440, 0.3)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := 0; len(received()) < 100; i++ {
		select {
		case <-ctx.Done():
			t.Fatalf("the WHEP player got %d packets in 15 s", len(received()))
		case <-tick.C:
		}
		off := (i * 960) % (len(tone) - 960)
		pkt, err := enc.Encode(nil, tone[off:off+960])
		if err != nil {
			t.Fatal(err)
		}
		if err := track.WriteSample(pmedia.Sample{Data: pkt, Duration: 20 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
	}
	dec, err := opus.NewDecoder(48000)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	var pcm []int16
	pkts := received()
	n := len(pkts)
	for _, p := range pkts {
		if pcm, err = dec.Decode(pcm, p); err != nil {
			t.Fatal(err)
		}
	}
	hz := audiotest.DominantHz(pcm[len(pcm)/2:], 48000)
	t.Logf("WHIP → hub → WHEP: %d packets, dominant %.0f Hz, %.1f dB", n, hz, audiotest.RMSDB(pcm[len(pcm)/2:]))
	if math.Abs(hz-440) > 10 {
		t.Fatalf("dominant %.0f Hz, want 440", hz)
	}
	if st := e.st.Transcoder.Stats.TranscodedFrames.Load(); st != 0 {
		t.Errorf("%d frames transcoded: Opus to an Opus player must pass through", st)
	}
}
