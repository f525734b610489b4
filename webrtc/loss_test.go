//go:build cgo

package webrtc_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	pionwebrtc "github.com/pion/webrtc/v4"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/g711"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/media"
	fvrtc "github.com/flashvox/flashvox/webrtc"
)

// TestPlayerLossProtects: an Opus player of a PCMU stream (transcoded)
// whose RTCP receiver reports say it lost a quarter of the packets gets
// Opus with in-band FEC from then on: its packets grow by half or more.
// On both engines (the lite plane's reports and pion's RTCP reader).
func TestPlayerLossProtects(t *testing.T) {
	testpeer.SkipShort(t, "seconds of real-time media and timers")
	voice := audiotest.Voice(8000, 4*8000, 140, 0.3)
	for _, engine := range []string{fvrtc.EngineLite, fvrtc.EnginePion} {
		t.Run(engine, func(t *testing.T) {
			e := startEdge(t, nil, fvrtc.Options{Engine: engine})
			pub, err := e.st.Hub.Publish("live/voice")
			if err != nil {
				t.Fatal(err)
			}
			defer pub.Close()
			pub.DeclareAudioCodec(codec.PCMU)
			pc, err := codecAPI(t, pionOpus).NewPeerConnection(pionwebrtc.Configuration{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = pc.Close() })
			p, _ := recvRTP(t, pc)
			negotiate(t, pc, e.url+"/live/voice/whep")
			testwait.For(t, 10*time.Second, "the player connected", func() bool {
				return pc.ConnectionState() == pionwebrtc.PeerConnectionStateConnected
			})
			next := 0
			// send publishes n 20 ms frames of voice in real time and
			// returns the mean size of the Opus packets they became, past
			// the first 10 (the encoder's change).
			send := func(n int) float64 {
				from := len(p.got())
				tick := time.NewTicker(20 * time.Millisecond)
				defer tick.Stop()
				for range n {
					<-tick.C
					pcm := voice[(next*160)%len(voice):][:160]
					b := make([]byte, 160)
					for i, s := range pcm {
						b[i] = g711.EncodeULaw(s)
					}
					pub.Write(&media.Frame{Kind: media.KindAudio, Codec: codec.PCMU, Rate: 8000, Channels: 1, Timestamp: uint32(next * 20), Payload: b})
					next++
				}
				var pkts []*rtp.Packet
				testwait.ForDetail(t, 5*time.Second, "the frames played", func() bool { pkts = p.got()[from:]; return len(pkts) >= n-2 },
					func() string { return fmt.Sprintf("%d of %d", len(p.got())-from, n) })
				total := 0
				for _, k := range pkts[10:] {
					total += len(k.Payload)
				}
				return float64(total) / float64(len(pkts)-10)
			}
			before := send(50)
			ssrc := p.got()[0].SSRC
			if err := pc.WriteRTCP([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 1234, Reports: []rtcp.ReceptionReport{{SSRC: ssrc, FractionLost: 64}}}}); err != nil {
				t.Fatal(err)
			}
			protected := send(50)
			t.Logf("%s: Opus packets of %.1f bytes before the report of 25 %% loss, %.1f after", engine, before, protected)
			if protected < before*3/2 {
				t.Fatalf("packets of %.1f bytes after the report, %.1f before: no FEC", protected, before)
			}
		})
	}
}
