//go:build cgo

package sipbridge

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/pion/rtp"
	pionwebrtc "github.com/pion/webrtc/v4"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/g722"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

var pionG722 = pionCodec{codec.G722, pionwebrtc.RTPCodecParameters{PayloadType: 9,
	RTPCodecCapability: pionwebrtc.RTPCodecCapability{MimeType: pionwebrtc.MimeTypeG722, ClockRate: 8000}},
	16000, g722Frames, g722PCM}

func g722Frames(t *testing.T, pcm []int16) [][]byte {
	enc, err := g722.NewEncoder(320)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for i := 0; i+320 <= len(pcm); i += 320 {
		p, err := enc.Encode(nil, pcm[i:i+320])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

func g722PCM(t *testing.T, pkts [][]byte) []int16 {
	dec := g722.NewDecoder()
	var pcm []int16
	for _, p := range pkts {
		pcm, _ = dec.Decode(pcm, p)
	}
	return pcm
}

// TestPeerWHEPBeforeSIPAudio: sipp calls web user bob offering one codec
// (G.711 or G.722); bob answers, and his WHEP player (offering Opus first,
// as a browser does) opens between the bridge's 200 OK and sipp's ACK,
// before any RTP, when the hub has no frame of the SIP leg yet. The player still gets the leg's
// negotiated codec: every frame passes through (none transcoded) and the
// phone's tone is heard.
func TestPeerWHEPBeforeSIPAudio(t *testing.T) {
	testpeer.SkipShort(t, "real peers")
	t.Parallel() // waits on real-time calls: runs beside the other such tests (sipbridge is the longest package)
	testpeer.Require(t, "sipp")
	for _, tc := range []struct {
		name    string
		c       pionCodec
		formats string
		rtpmap  string
	}{
		{"pcmu", pionPCMU, "0", "a=rtpmap:0 PCMU/8000"},
		{"g722", pionG722, "9", "a=rtpmap:9 G722/8000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rtpConn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			defer rtpConn.Close()
			port := strconv.Itoa(rtpConn.LocalAddr().(*net.UDPAddr).Port)
			scen := sippScenario(t, "uac_rtp.xml", "RTPPORT", port, "OFFER_FORMATS", tc.formats, "OFFER_RTPMAP", tc.rtpmap, "HOLD_MS", "8000",
				// The ACK comes 2 s after the 200 OK: the player opens meanwhile.
				`<recv response="200" rtd="true" crlf="true"/>`, `<recv response="200" rtd="true" crlf="true"/><pause milliseconds="2000"/>`)
			e := startEnv(t, func(o *Options) { o.RTPTimeout = 30 * time.Second })
			srv, base := startWebRTC(t, e)
			ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
			defer cancel()
			fu := onlineFlash(ctx, t, e, "bob")
			sipp := testpeer.SippUAC(t, 40*time.Second, e.bridge.Addr(), "-sf", scen, "-s", "15550001", "-m", "1")
			defer sipp.Stop()
			acc := fu.acceptNext(ctx, t, sipp)
			if acc == nil {
				t.Fatal("no stream names in the answer")
			}
			testwait.For(t, 5*time.Second, "the SIP leg published", func() bool { return e.hub.Published("phone/" + acc.GetString("play")) })
			heard := pionPlayOffering(t, tc.c, []pionCodec{pionOpus, tc.c}, base+"/phone/"+acc.GetString("play")+"/whep", "bob")
			if n, a := e.bridge.Stats.RTPIn.Load(), e.bridge.Stats.Active.Load(); n != 0 || a != 0 {
				t.Fatalf("the player came after the call was set up: %d RTP packets in, %d calls established", n, a)
			}

			// The phone's side: the bridge's RTP address is learnt from its
			// first packet, which bob's published audio makes it send.
			pubID, err := fu.c.CreateStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := fu.c.Publish(ctx, pubID, acc.GetString("publish"), "live"); err != nil {
				t.Fatal(err)
			}
			sendCtx, stopSend := context.WithCancel(ctx)
			defer stopSend()
			go fu.send(sendCtx, pubID, passPCMU.header, g711Frames(t, 400))
			tone := tc.c.encode(t, audiotest.Square(tc.c.rate, 5*tc.c.rate, carolHz, 0.3))
			go readRTP(rtpConn, uint8(tc.c.params.PayloadType), func(to *net.UDPAddr) { go sendTone(sendCtx, rtpConn, to, uint8(tc.c.params.PayloadType), tone) })
			testwait.For(t, 15*time.Second, "bob hears 3 s of the phone", func() bool { return len(heard()) >= 150 })
			pcm := tc.c.decode(t, heard())
			checkTone(t, "bob (WHEP)", after(pcm, tc.c.rate/2), tc.c.rate, carolHz, bobHz)
			pass, xcode := srv.Stats.PassedThrough.Load(), srv.Stats.Transcoded.Load()
			t.Logf("WHEP: %d frames passed through, %d transcoded", pass, xcode)
			if xcode != 0 || pass < 100 {
				t.Errorf("WHEP: %d frames passed through, %d transcoded; want all passed through", pass, xcode)
			}
		})
	}
}

// sendTone sends pkts as RTP of payload type pt to the bridge, one per 20 ms.
func sendTone(ctx context.Context, conn *net.UDPConn, to *net.UDPAddr, pt uint8, pkts [][]byte) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i, p := range pkts {
		k := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: uint16(100 + i),
			Timestamp: uint32(160 * i), SSRC: 0x70e, Marker: i == 0}, Payload: p}
		b, _ := k.Marshal()
		if _, err := conn.WriteToUDP(b, to); err != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
