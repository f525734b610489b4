//go:build cgo

package sipbridge

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/pion/rtp"
	pionwebrtc "github.com/pion/webrtc/v4"
)

// TestPeerWHIPDigitReachesBaresip: a WebRTC client without the page (pion,
// PCMU) answers baresip's call and sends digit 5 only in-band, as RFC 4733
// events on its WHIP session, never through the call API: the SIP leg
// sends it to baresip as RFC 4733, once.
func TestPeerWHIPDigitReachesBaresip(t *testing.T) {
	testpeer.SkipShort(t, "real peers")
	e := startEnv(t, nil)
	_, base := startWebRTC(t, e)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	fu := onlineFlash(ctx, t, e, "bob")
	micPath := filepath.Join(t.TempDir(), "carol.wav")
	if err := audiotest.WriteWAV(micPath, audiotest.Square(8000, 12*8000, carolHz, 0.3), 8000); err != nil {
		t.Fatal(err)
	}
	b := testpeer.StartBaresip(t, 30*time.Second, testpeer.BaresipOptions{
		Account:   "<sip:carol@" + e.bridge.Addr() + ">;auth_pass=carol;regint=0;audio_codecs=PCMU",
		SourceWAV: micPath, Exec: "/dial sip:bob@" + e.bridge.Addr(), Seconds: 15,
	})
	acc := fu.acceptNext(ctx, t, b)
	if acc == nil {
		t.Fatal("no stream names in the answer")
	}
	pc, tr := testpeer.PionDTMFPublisher(t)
	pionNegotiate(t, pc, base+"/phone/"+acc.GetString("publish")+"/whip", "bob")
	mic := pcmuFrames(t, audiotest.Square(8000, 6*8000, bobHz, 0.3))
	go func() { // 20 ms of audio a tick; digit 5 after a second
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i, f := range mic {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			ts := uint32(i * 160)
			tr.Send("audio/pcmu", ts, i == 0, f)
			if i == 50 {
				for k, p := range testpeer.DTMFDigit(5) { // RFC 4733: five updates, the end three times
					tr.Send("audio/telephone-event", ts, k == 0, p)
				}
			}
		}
	}()
	testwait.For(t, 10*time.Second, "baresip to get the WHIP client's digit", func() bool {
		return strings.Contains(b.Output(), "received event: '5' (end=1)")
	})
	testwait.For(t, 5*time.Second, "the call's audio to go on after the digit", func() bool { return e.bridge.Stats.RTPOut.Load() > 150 })
	b.Stop()
	if n := strings.Count(b.Output(), "received event: '5' (end=1)"); n != 1 {
		t.Errorf("baresip got digit 5 %d times, want once\n%s", n, b.Output())
	}
}

// TestPeerSippDigitReachesWHEP is the other direction: sipp calls web user
// bob with G.711 A-law audio and the RFC 2833 digit 1 (sip-tester's
// pcaps); bob answers and plays the caller's stream over WHEP offering
// PCMA and telephone-event: the digit reaches the WHEP player as one RFC
// 4733 event on the audio's SSRC, after the audio.
func TestPeerSippDigitReachesWHEP(t *testing.T) {
	testpeer.SkipShort(t, "real peers")
	scen := uacScenario(t, "7200", "2000") // 2 s of the pcap's audio before the digit
	e := startEnv(t, nil)
	_, base := startWebRTC(t, e)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	fu := onlineFlash(ctx, t, e, "bob")
	uac := testpeer.SippUAC(t, 30*time.Second, e.bridge.Addr(), "-sf", scen, "-s", "15550001", "-m", "1")
	acc := fu.acceptNext(ctx, t, uac)
	if acc == nil {
		t.Fatal("no stream names in the answer")
	}
	pcma := pionCodec{codec.PCMA, pionwebrtc.RTPCodecParameters{PayloadType: 8,
		RTPCodecCapability: pionwebrtc.RTPCodecCapability{MimeType: pionwebrtc.MimeTypePCMA, ClockRate: 8000}}, 8000, nil, nil}
	ev := pionCodec{params: pionwebrtc.RTPCodecParameters{PayloadType: 101,
		RTPCodecCapability: pionwebrtc.RTPCodecCapability{MimeType: "audio/telephone-event", ClockRate: 8000, SDPFmtpLine: "0-15"}}}
	got := pionPlayRTP(t, []pionCodec{pcma, ev}, base+"/phone/"+acc.GetString("play")+"/whep", "bob")
	starts := func() (audio, events []*rtp.Packet) {
		for _, p := range got() {
			switch p.PayloadType {
			case 8:
				audio = append(audio, p)
			case 101:
				if p.Marker {
					events = append(events, p)
				}
			}
		}
		return audio, events
	}
	testwait.For(t, 15*time.Second, "the WHEP player to get the caller's digit", func() bool {
		_, evs := starts()
		return len(evs) > 0
	})
	if err := uac.Wait(); err != nil {
		t.Fatalf("sipp uac: %v\n%s", err, uac.Output())
	}
	audio, evs := starts()
	if len(evs) != 1 || evs[0].Payload[0] != 1 {
		t.Fatalf("the WHEP player got %d digit starts (first %v), want one digit 1", len(evs), evs)
	}
	if len(audio) < 50 || audio[0].SSRC != evs[0].SSRC {
		t.Fatalf("%d audio packets before the event, SSRC %v; the event's %d", len(audio), audio[0].SSRC, evs[0].SSRC)
	}
	t.Logf("the WHEP player got %d PCMA packets and digit 1", len(audio))
}
