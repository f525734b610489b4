//go:build cgo

package webrtc_test

import (
	"bytes"
	"context"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtp"
	pionwebrtc "github.com/pion/webrtc/v4"
	pmedia "github.com/pion/webrtc/v4/pkg/media"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/opus"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/media"
	fvrtc "github.com/flashvox/flashvox/webrtc"
)

// pionCodec is a codec a test client offers.
type pionCodec struct {
	cap pionwebrtc.RTPCodecCapability
	pt  pionwebrtc.PayloadType
}

var (
	pionPCMU  = pionCodec{pionwebrtc.RTPCodecCapability{MimeType: pionwebrtc.MimeTypePCMU, ClockRate: 8000}, 0}
	pionPCMA  = pionCodec{pionwebrtc.RTPCodecCapability{MimeType: pionwebrtc.MimeTypePCMA, ClockRate: 8000}, 8}
	pionG722  = pionCodec{pionwebrtc.RTPCodecCapability{MimeType: pionwebrtc.MimeTypeG722, ClockRate: 8000}, 9}
	pionOpus  = pionCodec{pionwebrtc.RTPCodecCapability{MimeType: pionwebrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, 111}
	pionEv8k  = pionCodec{pionwebrtc.RTPCodecCapability{MimeType: "audio/telephone-event", ClockRate: 8000, SDPFmtpLine: "0-15"}, 101}
	pionEv48k = pionCodec{pionwebrtc.RTPCodecCapability{MimeType: "audio/telephone-event", ClockRate: 48000, SDPFmtpLine: "0-15"}, 110}
)

// codecAPI is a loopback pion client that offers exactly cs.
func codecAPI(t *testing.T, cs ...pionCodec) *pionwebrtc.API {
	t.Helper()
	m := &pionwebrtc.MediaEngine{}
	for _, c := range cs {
		if err := m.RegisterCodec(pionwebrtc.RTPCodecParameters{RTPCodecCapability: c.cap, PayloadType: c.pt}, pionwebrtc.RTPCodecTypeAudio); err != nil {
			t.Fatal(err)
		}
	}
	var s pionwebrtc.SettingEngine
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	s.SetIncludeLoopbackCandidate(true)
	s.SetIPFilter(func(ip net.IP) bool { return ip.Equal(net.IPv4(127, 0, 0, 1)) })
	s.SetNetworkTypes([]pionwebrtc.NetworkType{pionwebrtc.NetworkTypeUDP4})
	return pionwebrtc.NewAPI(pionwebrtc.WithMediaEngine(m), pionwebrtc.WithSettingEngine(s))
}

// rtpPlayer plays through WHEP at url and keeps every RTP packet.
type rtpPlayer struct {
	mu   sync.Mutex
	pkts []*rtp.Packet
}

func (p *rtpPlayer) got() []*rtp.Packet {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.pkts)
}

// of is the packets of payload type pt.
func (p *rtpPlayer) of(pt uint8) []*rtp.Packet {
	var out []*rtp.Packet
	for _, k := range p.got() {
		if k.PayloadType == pt {
			out = append(out, k)
		}
	}
	return out
}

func playRTP(t *testing.T, api *pionwebrtc.API, url string) *rtpPlayer {
	t.Helper()
	pc, err := api.NewPeerConnection(pionwebrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	p, _ := recvRTP(t, pc)
	negotiate(t, pc, url)
	return p
}

// recvRTP adds a receive-only audio transceiver to pc and keeps every
// RTP packet it receives; the caller negotiates pc.
func recvRTP(t *testing.T, pc *pionwebrtc.PeerConnection) (*rtpPlayer, *pionwebrtc.RTPTransceiver) {
	t.Helper()
	tr, err := pc.AddTransceiverFromKind(pionwebrtc.RTPCodecTypeAudio, pionwebrtc.RTPTransceiverInit{Direction: pionwebrtc.RTPTransceiverDirectionRecvonly})
	if err != nil {
		t.Fatal(err)
	}
	p := &rtpPlayer{}
	pc.OnTrack(func(track *pionwebrtc.TrackRemote, _ *pionwebrtc.RTPReceiver) {
		for {
			k, _, err := track.ReadRTP()
			if err != nil {
				return
			}
			p.mu.Lock()
			p.pkts = append(p.pkts, k)
			p.mu.Unlock()
		}
	})
	return p, tr
}

// publishFrames publishes n 20 ms frames of id on key in real time (a SIP
// leg's stream, say) until stop says enough or 15 s passed; frame i is
// made by mk(i).
func publishFrames(t *testing.T, pub *media.Publisher, id codec.ID, rate int, mk func(i int) []byte, stop func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := 0; !stop(); i++ {
		select {
		case <-ctx.Done():
			t.Fatal("publishing: 15 s passed")
		case <-tick.C:
		}
		pub.Write(&media.Frame{Kind: media.KindAudio, Codec: id, Rate: rate, Channels: 1, Timestamp: uint32(i * 20), Payload: mk(i)})
	}
}

// numbered is a 160-byte G.711/G.722 frame whose first two bytes number it.
func numbered(i int) []byte {
	b := bytes.Repeat([]byte{byte(i*7 + 1)}, 160)
	b[0], b[1] = byte(i>>8), byte(i)
	return b
}

// TestWHEPPassThrough: a stream published in G.711 or G.722 (as a SIP leg
// publishes it) is played over WHEP by a player that offers that codec:
// the player gets the very bytes published, RTP timestamps advancing 160
// a frame, and the edge counts pass-through, not transcoding.
func TestWHEPPassThrough(t *testing.T) {
	for _, c := range []struct {
		name string
		id   codec.ID
		rate int
		pc   pionCodec
	}{
		{"pcmu", codec.PCMU, 8000, pionPCMU},
		{"pcma", codec.PCMA, 8000, pionPCMA},
		{"g722", codec.G722, 16000, pionG722},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := startEdge(t, nil, fvrtc.Options{})
			pub, err := e.st.Hub.Publish("live/sip")
			if err != nil {
				t.Fatal(err)
			}
			defer pub.Close()
			p := playRTP(t, codecAPI(t, c.pc), e.url+"/live/sip/whep")
			publishFrames(t, pub, c.id, c.rate, numbered, func() bool { return len(p.got()) >= 30 })
			pkts := p.of(uint8(c.pc.pt))
			if len(pkts) < 30 {
				t.Fatalf("%d packets of PT %d (of %d)", len(pkts), c.pc.pt, len(p.got()))
			}
			for k := 1; k < len(pkts); k++ {
				a, b := pkts[k-1], pkts[k]
				n := int(b.Payload[0])<<8 | int(b.Payload[1])
				if !bytes.Equal(b.Payload, numbered(n)) {
					t.Fatalf("packet %d: payload is not published frame %d", k, n)
				}
				if n == int(a.Payload[0])<<8|int(a.Payload[1])+1 && b.Timestamp-a.Timestamp != 160 {
					t.Fatalf("packet %d: timestamp step %d, want 160", k, b.Timestamp-a.Timestamp)
				}
			}
			if e.srv.Stats.PassedThrough.Load() == 0 || e.srv.Stats.Transcoded.Load() != 0 {
				t.Fatalf("passed through %d, transcoded %d: want only pass-through",
					e.srv.Stats.PassedThrough.Load(), e.srv.Stats.Transcoded.Load())
			}
			if n := e.st.Transcoder.Stats.TranscodedFrames.Load(); n != 0 {
				t.Fatalf("%d frames decoded for a player in the stream's own codec", n)
			}
		})
	}
}

// TestWHEPTranscodedToG711: a stream in Opus played by a PCMU-only player
// is transcoded (counted so) and arrives as 160-byte PCMU packets.
func TestWHEPTranscodedToG711(t *testing.T) {
	e := startEdge(t, nil, fvrtc.Options{})
	api := loopbackAPI()
	track := whipClient(t, api, e.url+"/live/op/whip")
	p := playRTP(t, codecAPI(t, pionPCMU), e.url+"/live/op/whep")
	sendTone(t, track, func() bool { return len(p.of(0)) >= 20 })
	for _, k := range p.of(0) {
		if len(k.Payload) != 160 {
			t.Fatalf("a PCMU packet of %d bytes, want 160", len(k.Payload))
		}
	}
	if e.srv.Stats.Transcoded.Load() == 0 {
		t.Fatal("no frame counted transcoded")
	}
}

// TestWHIPInG711: a publisher that offers only PCMA (or only G.722)
// publishes frames of that codec (its RTP payloads, untouched) on the
// stream, at the codec's PCM rate, 20 ms apart.
func TestWHIPInG711(t *testing.T) {
	for _, c := range []struct {
		name string
		id   codec.ID
		rate int
		pc   pionCodec
	}{
		{"pcma", codec.PCMA, 8000, pionPCMA},
		{"g722", codec.G722, 16000, pionG722},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := startEdge(t, nil, fvrtc.Options{})
			got := make(chan *media.Frame, 64)
			sub := e.st.Hub.Subscribe("live/g", media.ReceiverFunc(func(f *media.Frame) {
				if f.Kind == media.KindAudio {
					select {
					case got <- f:
					default:
					}
				}
			}))
			defer sub.Close()
			track := whipTrack(t, codecAPI(t, c.pc), e.url+"/live/g/whip", c.pc.cap)
			var frames []*media.Frame
			publishSamples(t, track, numbered, func() bool {
				for {
					select {
					case f := <-got:
						frames = append(frames, f)
					default:
						return len(frames) >= 10
					}
				}
			})
			for k, f := range frames {
				if f.Codec != c.id || f.Rate != c.rate || len(f.Payload) != 160 {
					t.Fatalf("frame %v %d Hz %d bytes, want %v %d Hz 160 bytes", f.Codec, f.Rate, len(f.Payload), c.id, c.rate)
				}
				if d := f.Timestamp - frames[max(k-1, 0)].Timestamp; k > 0 && d != 20 {
					t.Fatalf("frames %d and %d: %d ms apart, want 20", k-1, k, d)
				}
			}
		})
	}
}

// whipTrack publishes through WHIP at url with a track of capability c.
func whipTrack(t *testing.T, api *pionwebrtc.API, url string, c pionwebrtc.RTPCodecCapability) *pionwebrtc.TrackLocalStaticSample {
	t.Helper()
	pc, err := api.NewPeerConnection(pionwebrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	track, err := pionwebrtc.NewTrackLocalStaticSample(c, "a", "s")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTransceiverFromTrack(track, pionwebrtc.RTPTransceiverInit{Direction: pionwebrtc.RTPTransceiverDirectionSendonly}); err != nil {
		t.Fatal(err)
	}
	negotiate(t, pc, url)
	return track
}

// publishSamples writes 20 ms samples made by mk(i) in real time (media,
// not a wait) until stop says enough, or fails after 15 s.
func publishSamples(t *testing.T, track *pionwebrtc.TrackLocalStaticSample, mk func(i int) []byte, stop func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := 0; !stop(); i++ {
		select {
		case <-ctx.Done():
			t.Fatal("publishing: 15 s passed")
		case <-tick.C:
		}
		if err := track.WriteSample(pmedia.Sample{Data: mk(i), Duration: 20 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
	}
}

// sendTone publishes a 440 Hz Opus tone on track until stop says enough.
func sendTone(t *testing.T, track *pionwebrtc.TrackLocalStaticSample, stop func() bool) {
	t.Helper()
	enc, err := opus.NewEncoder(48000, opus.EncoderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	tone := audiotest.Sine(48000, 48000, 440, 0.3)
	publishSamples(t, track, func(i int) []byte {
		off := (i * 960) % (len(tone) - 960)
		pkt, err := enc.Encode(nil, tone[off:off+960])
		if err != nil {
			t.Fatal(err)
		}
		return pkt
	}, stop)
}
