package webrtc_test

import (
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtp"
	pionwebrtc "github.com/pion/webrtc/v4"

	"github.com/flashvox/flashvox/internal/test/testwait"
	fvrtc "github.com/flashvox/flashvox/webrtc"
)

// pcmuClientAPI is a pion client on 127.0.0.1 that offers PCMU only (so
// the edge passes the stream through) and pion's default interceptors,
// as a browser offers them (transport-cc, NACK, RTCP reports).
func pcmuClientAPI(tb testing.TB) *pionwebrtc.API {
	tb.Helper()
	var s pionwebrtc.SettingEngine
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	s.SetIncludeLoopbackCandidate(true)
	s.SetIPFilter(func(ip net.IP) bool { return ip.Equal(net.IPv4(127, 0, 0, 1)) })
	s.SetNetworkTypes([]pionwebrtc.NetworkType{pionwebrtc.NetworkTypeUDP4})
	m := &pionwebrtc.MediaEngine{}
	if err := m.RegisterCodec(pionwebrtc.RTPCodecParameters{
		RTPCodecCapability: pionwebrtc.RTPCodecCapability{MimeType: pionwebrtc.MimeTypePCMU, ClockRate: 8000, Channels: 1},
		PayloadType:        0,
	}, pionwebrtc.RTPCodecTypeAudio); err != nil {
		tb.Fatal(err)
	}
	return pionwebrtc.NewAPI(pionwebrtc.WithSettingEngine(s), pionwebrtc.WithMediaEngine(m))
}

// offerTo posts pc's complete offer to url and applies the answer.
func offerTo(tb testing.TB, pc *pionwebrtc.PeerConnection, url string) {
	tb.Helper()
	o, err := pc.CreateOffer(nil)
	if err != nil {
		tb.Fatal(err)
	}
	done := pionwebrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(o); err != nil {
		tb.Fatal(err)
	}
	<-done
	res, err := http.Post(url, "application/sdp", strings.NewReader(pc.LocalDescription().SDP))
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if res.StatusCode != http.StatusCreated {
		tb.Fatalf("POST %s: %d %s", url, res.StatusCode, b)
	}
	if err := pc.SetRemoteDescription(pionwebrtc.SessionDescription{Type: pionwebrtc.SDPTypeAnswer, SDP: string(b)}); err != nil {
		tb.Fatal(err)
	}
}

// cpuTime is the process's user+system CPU time: on a shared machine
// ns/op (wall time) measures the neighbours too; cpu-ns/op does not.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkWHIPToWHEP is one PCMU packet through the edge: a pion
// publisher's SRTP packet read by the WHIP session, published on the hub,
// taken by a WHEP session's play loop and written to a pion player as
// SRTP. ns/op and allocs/op include both pion clients (the same before
// and after a change of the edge); at most window packets are in flight,
// so the hub's queues never drop. The player's count is exact: a lost
// packet fails the benchmark. cpu-ns/op is the whole process's CPU per
// packet (edge and clients).
func BenchmarkWHIPToWHEP(b *testing.B) {
	const window = 8
	e := startEdge(b, nil, fvrtc.Options{})
	api := pcmuClientAPI(b)

	player, err := api.NewPeerConnection(pionwebrtc.Configuration{})
	if err != nil {
		b.Fatal(err)
	}
	defer player.Close()
	if _, err := player.AddTransceiverFromKind(pionwebrtc.RTPCodecTypeAudio, pionwebrtc.RTPTransceiverInit{Direction: pionwebrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		b.Fatal(err)
	}
	var got atomic.Int64
	arrived := make(chan struct{}, 1)
	player.OnTrack(func(tr *pionwebrtc.TrackRemote, _ *pionwebrtc.RTPReceiver) {
		buf := make([]byte, 1500)
		for {
			if _, _, err := tr.Read(buf); err != nil {
				return
			}
			got.Add(1)
			select {
			case arrived <- struct{}{}:
			default:
			}
		}
	})
	offerTo(b, player, e.url+"/live/bench/whep")

	pub, err := api.NewPeerConnection(pionwebrtc.Configuration{})
	if err != nil {
		b.Fatal(err)
	}
	defer pub.Close()
	track, err := pionwebrtc.NewTrackLocalStaticRTP(pionwebrtc.RTPCodecCapability{MimeType: pionwebrtc.MimeTypePCMU, ClockRate: 8000, Channels: 1}, "a", "s")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := pub.AddTransceiverFromTrack(track, pionwebrtc.RTPTransceiverInit{Direction: pionwebrtc.RTPTransceiverDirectionSendonly}); err != nil {
		b.Fatal(err)
	}
	offerTo(b, pub, e.url+"/live/bench/whip")

	payload := make([]byte, 160) // 20 ms of PCMU
	for i := range payload {
		payload[i] = 0xff
	}
	var sent int64
	send := func() {
		h := rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(sent), Timestamp: uint32(sent) * 160}
		if err := track.WriteRTP(&rtp.Packet{Header: h, Payload: payload}); err != nil {
			b.Fatal(err)
		}
		sent++
	}
	// Until both sessions are up, packets go nowhere: send until the
	// player has one.
	testwait.For(b, 20*time.Second, "the first packet through the edge", func() bool {
		send()
		return got.Load() > 0
	})
	base, sent0 := got.Load(), sent
	wait := func(upTo int64) {
		deadline := time.After(10 * time.Second)
		for got.Load()-base < upTo-sent0 {
			select {
			case <-arrived:
			case <-deadline:
				b.Fatalf("the player has %d of %d packets after 10 s", got.Load()-base, upTo)
			}
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		send()
		if sent-sent0 > window {
			wait(sent - window)
		}
	}
	wait(sent)
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	if st := e.st.Transcoder.Stats.TranscodedFrames.Load(); st != 0 {
		b.Fatalf("%d frames transcoded: PCMU to a PCMU player must pass through", st)
	}
}
