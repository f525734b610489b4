//go:build cgo

package sipbridge

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtp"
	pionwebrtc "github.com/pion/webrtc/v4"
	pmedia "github.com/pion/webrtc/v4/pkg/media"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/g711"
	"github.com/flashvox/flashvox/codec/opus"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/webrtc"
)

// Browser ↔ SIP phone without decoding. A Go WebRTC client (pion, the
// load client's kind, no page) is web user bob: it answers over RTMP
// signalling and carries the call's audio over WHIP (its microphone) and
// WHEP (the phone's voice), authorized as the web page's are (the call
// service's StreamKey). The phone is baresip speaking one codec; when
// both sides speak it, no frame is decoded: SRTP ↔ RTP only.

// pionCodec is one codec of the pion side: its SDP capability and
// payload type, and how it encodes and decodes (20 ms frames).
type pionCodec struct {
	id     codec.ID
	params pionwebrtc.RTPCodecParameters
	rate   int
	encode func(t *testing.T, pcm []int16) [][]byte
	decode func(t *testing.T, pkts [][]byte) []int16
}

var (
	pionOpus = pionCodec{codec.Opus, pionwebrtc.RTPCodecParameters{PayloadType: 111,
		RTPCodecCapability: pionwebrtc.RTPCodecCapability{MimeType: pionwebrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}},
		48000, opusFrames, opusPCM}
	pionPCMU = pionCodec{codec.PCMU, pionwebrtc.RTPCodecParameters{PayloadType: 0,
		RTPCodecCapability: pionwebrtc.RTPCodecCapability{MimeType: pionwebrtc.MimeTypePCMU, ClockRate: 8000}},
		8000, pcmuFrames, pcmuPCM}
)

func opusFrames(t *testing.T, pcm []int16) [][]byte {
	enc, err := opus.NewEncoder(48000, opus.EncoderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	n := enc.FrameSamples()
	var out [][]byte
	for i := 0; i+n <= len(pcm); i += n {
		p, err := enc.Encode(nil, pcm[i:i+n])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

func opusPCM(t *testing.T, pkts [][]byte) []int16 {
	dec, err := opus.NewDecoder(48000)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	var pcm []int16
	for _, p := range pkts {
		pcm, _ = dec.Decode(pcm, p)
	}
	return pcm
}

func pcmuFrames(t *testing.T, pcm []int16) [][]byte {
	enc, err := g711.NewEncoder(g711.ULaw, 160)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for i := 0; i+160 <= len(pcm); i += 160 {
		p, err := enc.Encode(nil, pcm[i:i+160])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

func pcmuPCM(t *testing.T, pkts [][]byte) []int16 {
	dec, err := g711.NewDecoder(g711.ULaw)
	if err != nil {
		t.Fatal(err)
	}
	var pcm []int16
	for _, p := range pkts {
		pcm, _ = dec.Decode(pcm, p)
	}
	return pcm
}

// pionAPI is a pion client on 127.0.0.1 offering only c.
func pionAPI(t *testing.T, c pionCodec) *pionwebrtc.API {
	t.Helper()
	m := &pionwebrtc.MediaEngine{}
	if err := m.RegisterCodec(c.params, pionwebrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	return pionAPIWith(t, m)
}

// pionAPIWith is a pion client on 127.0.0.1 offering m's codecs.
func pionAPIWith(t *testing.T, m *pionwebrtc.MediaEngine) *pionwebrtc.API {
	t.Helper()
	var s pionwebrtc.SettingEngine
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	s.SetIncludeLoopbackCandidate(true)
	s.SetIPFilter(func(ip net.IP) bool { return ip.Equal(net.IPv4(127, 0, 0, 1)) })
	s.SetNetworkTypes([]pionwebrtc.NetworkType{pionwebrtc.NetworkTypeUDP4})
	return pionwebrtc.NewAPI(pionwebrtc.WithMediaEngine(m), pionwebrtc.WithSettingEngine(s))
}

// pionNegotiate posts pc's offer (after gathering) to url with a Bearer
// credential and applies the answer.
func pionNegotiate(t *testing.T, pc *pionwebrtc.PeerConnection, url, bearer string) {
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
	req, _ := http.NewRequest("POST", url, strings.NewReader(pc.LocalDescription().SDP))
	req.Header.Set("Content-Type", "application/sdp")
	req.Header.Set("Authorization", "Bearer "+bearer)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("POST %s: %d %s", url, res.StatusCode, b)
	}
	if err := pc.SetRemoteDescription(pionwebrtc.SessionDescription{Type: pionwebrtc.SDPTypeAnswer, SDP: string(b)}); err != nil {
		t.Fatal(err)
	}
}

// pionPublish publishes frames (20 ms each, in real time) over WHIP at
// url until ctx ends or they run out.
func pionPublish(t *testing.T, ctx context.Context, c pionCodec, url, bearer string, frames [][]byte) {
	t.Helper()
	pc, err := pionAPI(t, c).NewPeerConnection(pionwebrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	track, err := pionwebrtc.NewTrackLocalStaticSample(c.params.RTPCodecCapability, "a", "bob")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTransceiverFromTrack(track, pionwebrtc.RTPTransceiverInit{Direction: pionwebrtc.RTPTransceiverDirectionSendonly}); err != nil {
		t.Fatal(err)
	}
	pionNegotiate(t, pc, url, bearer)
	// The microphone starts once connected, as a browser's does: pion
	// drops what is written before, and this test signal's Opus stream
	// decodes to noise when its first packets are missing (a decoder
	// started at any later packet of it measured −3 dB RMS of noise
	// instead of the −10.6 dB tone).
	testwait.For(t, 10*time.Second, "the WHIP publisher connected", func() bool {
		return pc.ConnectionState() == pionwebrtc.PeerConnectionStateConnected
	})
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for _, f := range frames {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			_ = track.WriteSample(pmedia.Sample{Data: f, Duration: 20 * time.Millisecond})
		}
	}()
}

// pionPlay plays over WHEP at url; the function it returns gives the
// payloads received so far.
func pionPlay(t *testing.T, c pionCodec, url, bearer string) func() [][]byte {
	t.Helper()
	return pionPlayOffering(t, c, []pionCodec{c}, url, bearer)
}

// pionPlayOffering is pionPlay with an offer of several codecs, best
// first (a browser's: Opus, then G.711…); it keeps c's payloads only.
func pionPlayOffering(t *testing.T, c pionCodec, offer []pionCodec, url, bearer string) func() [][]byte {
	t.Helper()
	got := pionPlayRTP(t, offer, url, bearer)
	return func() [][]byte {
		var out [][]byte
		for _, p := range got() {
			if p.PayloadType == uint8(c.params.PayloadType) {
				out = append(out, p.Payload)
			}
		}
		return out
	}
}

// pionPlayRTP plays over WHEP at url offering offer; the function it
// returns gives every RTP packet received so far.
func pionPlayRTP(t *testing.T, offer []pionCodec, url, bearer string) func() []*rtp.Packet {
	t.Helper()
	m := &pionwebrtc.MediaEngine{}
	for _, o := range offer {
		if err := m.RegisterCodec(o.params, pionwebrtc.RTPCodecTypeAudio); err != nil {
			t.Fatal(err)
		}
	}
	pc, err := pionAPIWith(t, m).NewPeerConnection(pionwebrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	if _, err := pc.AddTransceiverFromKind(pionwebrtc.RTPCodecTypeAudio, pionwebrtc.RTPTransceiverInit{Direction: pionwebrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		pkts []*rtp.Packet
	)
	pc.OnTrack(func(tr *pionwebrtc.TrackRemote, _ *pionwebrtc.RTPReceiver) {
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			mu.Lock()
			pkts = append(pkts, p)
			mu.Unlock()
		}
	})
	pionNegotiate(t, pc, url, bearer)
	return func() []*rtp.Packet { mu.Lock(); defer mu.Unlock(); return slices.Clone(pkts) }
}

// startWebRTC runs the WHIP/WHEP edge on e's hub; a call's streams are
// authorized as internal/app's webrtcAccess does for the phone
// application, the Bearer credential standing for the user its token
// names.
func startWebRTC(t *testing.T, e *env) (*webrtc.Server, string) {
	t.Helper()
	access := webrtc.AccessFunc(func(r webrtc.Request) (string, error) {
		if r.App != "phone" {
			return "", webrtc.ErrNotFound
		}
		key, err := e.calls.StreamKey(r.Bearer, r.Name, r.Publish)
		if err != nil {
			return "", webrtc.ErrForbidden
		}
		return key, nil
	})
	srv, err := webrtc.New(webrtc.Options{Hub: e.hub, Transcoder: e.tc, Access: access, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler(http.NotFoundHandler()))
	t.Cleanup(func() { srv.Close(); hs.Close() })
	return srv, hs.URL
}

// TestPeerBaresipWebRTCPassThrough: baresip carol, speaking only Opus
// (then only PCMU), calls web user bob, whose audio goes over WHIP and
// WHEP in the same codec. Each hears the other's tone, and nothing was
// decoded on the way: the hub's transcoders passed every frame through,
// the WHEP player got the SIP leg's frames as they came.
func TestPeerBaresipWebRTCPassThrough(t *testing.T) {
	testpeer.SkipShort(t, "real peers")
	for _, tc := range []struct {
		name     string
		c        pionCodec
		baresip  string // audio_codecs
		micRate  int
		channels int // of baresip's microphone: its Opus codec is stereo
		sipCodec codec.ID
		pass     bool // the two sides share the codec
	}{
		{"opus", pionOpus, "opus", 48000, 2, codec.Opus, true},
		{"pcmu", pionPCMU, "PCMU", 8000, 1, codec.PCMU, true},
		// Different codecs: transcoded, once each way.
		{"opus to pcmu phone", pionOpus, "PCMU", 8000, 1, codec.PCMU, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := startEnv(t, nil)
			srv, base := startWebRTC(t, e)
			ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
			defer cancel()
			fu := onlineFlash(ctx, t, e, "bob")

			micPath := filepath.Join(t.TempDir(), "carol.wav")
			carol := audiotest.Square(tc.micRate, 12*tc.micRate, carolHz, 0.3)
			if tc.channels == 2 {
				writeStereoWAV(t, micPath, carol, tc.micRate)
			} else if err := audiotest.WriteWAV(micPath, carol, tc.micRate); err != nil {
				t.Fatal(err)
			}
			b := testpeer.StartBaresip(t, 30*time.Second, testpeer.BaresipOptions{
				Account:   "<sip:carol@" + e.bridge.Addr() + ">;auth_pass=carol;regint=0;audio_codecs=" + tc.baresip,
				SourceWAV: micPath, Exec: "/dial sip:bob@" + e.bridge.Addr(), Seconds: 20,
				Config: []string{"module opus.so"},
			})
			acc := fu.acceptNext(ctx, t, b)
			if acc == nil {
				t.Fatal("no stream names in the answer")
			}
			heard := pionPlay(t, tc.c, base+"/phone/"+acc.GetString("play")+"/whep", "bob")
			mic := tc.c.encode(t, audiotest.Square(tc.c.rate, 6*tc.c.rate, bobHz, 0.3))
			pionPublish(t, ctx, tc.c, base+"/phone/"+acc.GetString("publish")+"/whip", "bob", mic)
			testwait.For(t, 15*time.Second, "bob hears 4 s of carol", func() bool { return len(heard()) >= 200 })

			pcm := tc.c.decode(t, heard())
			checkTone(t, "bob (WebRTC)", after(pcm, tc.c.rate/2), tc.c.rate, carolHz, bobHz)
			testwait.For(t, 10*time.Second, "baresip's recording", func() bool { return b.Heard() != "" })
			b.Stop()
			checkBaresipHeard(t, b)

			if got := e.bridge.Stats.Codecs(); got[tc.sipCodec.String()] == 0 {
				t.Errorf("the SIP leg did not speak %v: %v", tc.sipCodec, got)
			}
			counts := map[string][2]uint64{
				"WHEP": {srv.Stats.PassedThrough.Load(), srv.Stats.Transcoded.Load()},
				"SIP":  {e.bridge.Stats.FramesPassedThrough.Load(), e.bridge.Stats.FramesTranscoded.Load()},
			}
			if tc.pass {
				checkNoTranscoder(t, e)
			} else {
				counts["hub"] = [2]uint64{e.tc.Stats.PassedThroughFrames.Load(), e.tc.Stats.TranscodedFrames.Load()}
			}
			checkPassCounters(t, tc.pass, counts)
		})
	}
}

// writeStereoWAV writes pcm on both channels of a 16-bit WAV file
// (baresip's aufile wants the codec's channels).
func writeStereoWAV(t *testing.T, path string, pcm []int16, rate int) {
	t.Helper()
	data := make([]byte, 0, 4*len(pcm))
	for _, v := range pcm {
		data = binary.LittleEndian.AppendUint16(data, uint16(v))
		data = binary.LittleEndian.AppendUint16(data, uint16(v))
	}
	h := []byte("RIFF\x00\x00\x00\x00WAVEfmt ")
	h = binary.LittleEndian.AppendUint32(h, 16)
	h = binary.LittleEndian.AppendUint16(h, 1) // PCM
	h = binary.LittleEndian.AppendUint16(h, 2)
	h = binary.LittleEndian.AppendUint32(h, uint32(rate))
	h = binary.LittleEndian.AppendUint32(h, uint32(rate*4))
	h = binary.LittleEndian.AppendUint16(h, 4)
	h = binary.LittleEndian.AppendUint16(h, 16)
	h = append(h, "data"...)
	h = binary.LittleEndian.AppendUint32(h, uint32(len(data)))
	binary.LittleEndian.PutUint32(h[4:], uint32(len(h)-8+len(data)))
	if err := os.WriteFile(path, append(h, data...), 0o600); err != nil {
		t.Fatal(err)
	}
}

// checkPassCounters: each counter pair (frames passed through,
// transcoded) says pass-through (≥ 100 and 0) when pass, else
// transcoding (0 and ≥ 100).
func checkPassCounters(t *testing.T, pass bool, counts map[string][2]uint64) {
	t.Helper()
	for who, c := range counts {
		t.Logf("%s: %d frames passed through, %d transcoded", who, c[0], c[1])
		if pass && (c[0] < 100 || c[1] != 0) || !pass && (c[0] != 0 || c[1] < 100) {
			t.Errorf("%s: %d frames passed through, %d transcoded; want pass-through %v", who, c[0], c[1], pass)
		}
	}
}

// checkNoTranscoder: a pass-through call's legs subscribe to the streams
// directly, so no frame went through the hub's transcoders.
func checkNoTranscoder(t *testing.T, e *env) {
	t.Helper()
	if p, x := e.tc.Stats.PassedThroughFrames.Load(), e.tc.Stats.TranscodedFrames.Load(); p != 0 || x != 0 {
		t.Errorf("hub transcoders: %d frames passed through, %d transcoded; want none in a pass-through call's path", p, x)
	}
}

// opusMic writes a 12 s square of hz, 48 kHz stereo: baresip's Opus
// source format.
func opusMic(t *testing.T, hz float64) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "mic48k.wav")
	writeStereoWAV(t, p, audiotest.Square(48000, 12*48000, hz, 0.3), 48000)
	return p
}

// TestPeerBaresipPhoneToPhoneOpus: two baresips that speak only Opus,
// alice calling registered carol through flashvox: both legs Opus, every
// frame passed through (the hub and the SIP writers decode nothing), and
// each hears the other.
func TestPeerBaresipPhoneToPhoneOpus(t *testing.T) {
	testpeer.SkipShort(t, "real peers")
	e := startEnv(t, nil)
	opusOnly := []string{"module opus.so"}
	carol := testpeer.StartBaresip(t, 30*time.Second, testpeer.BaresipOptions{
		Account: g722Account("carol", e.bridge.Addr(), "opus", ";answermode=auto"), SourceWAV: opusMic(t, carolHz),
		Seconds: 8, Config: opusOnly,
	})
	testwait.For(t, 20*time.Second, "carol's registration", func() bool { return len(e.bridge.Registered("carol")) == 1 })
	alice := testpeer.StartBaresip(t, 30*time.Second, testpeer.BaresipOptions{
		Account: g722Account("alice", e.bridge.Addr(), "opus", ";regint=0"), SourceWAV: opusMic(t, bobHz),
		Exec: "/dial sip:carol@" + e.bridge.Addr(), Seconds: 4, Config: opusOnly,
	})
	if err := alice.Wait(); err != nil {
		t.Fatalf("alice's baresip: %v\n%s", err, alice.Output())
	}
	carol.Stop()
	for _, p := range []struct {
		who       string
		b         *testpeer.Baresip
		want, not float64
	}{{"alice (baresip)", alice, carolHz, bobHz}, {"carol (baresip)", carol, bobHz, carolHz}} {
		pcm, rate, err := audiotest.ReadWAV(p.b.Heard())
		if err != nil {
			t.Fatalf("%s's recording: %v\n%s", p.who, err, p.b.Output())
		}
		checkTone(t, p.who, after(pcm, rate/2), rate, p.want, p.not)
	}
	checkCodecs(t, e, map[string]uint64{"opus": 2})
	checkNoTranscoder(t, e)
	checkPassCounters(t, true, map[string][2]uint64{
		"SIP": {e.bridge.Stats.FramesPassedThrough.Load(), e.bridge.Stats.FramesTranscoded.Load()},
	})
}
