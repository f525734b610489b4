// Package whipload is the pion side of the WebRTC load clients
// (bench/webrtc, bench/sipwebrtc): WHIP publishers and WHEP players on
// 127.0.0.1 offering one codec each, and the pass-through frames that
// carry their own index and send time.
package whipload

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Caps are the codecs a client offers, one per session, by name.
var Caps = map[string]webrtc.RTPCodecParameters{
	"pcmu": {RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000}, PayloadType: 0},
	"opus": {RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, PayloadType: 111},
}

// newAPI is a pion API offering only codec, on 127.0.0.1.
func newAPI(codec string) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(Caps[codec], webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	var s webrtc.SettingEngine
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	s.SetIncludeLoopbackCandidate(true)
	s.SetIPFilter(func(ip net.IP) bool { return ip.Equal(net.IPv4(127, 0, 0, 1)) })
	s.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(s)), nil
}

// Player is a receive-only PeerConnection in codec whose packets go to
// onPacket (on pion's track goroutine); Negotiate it with a WHEP URL.
func Player(codec string, onPacket func(*rtp.Packet)) (*webrtc.PeerConnection, error) {
	api, err := newAPI(codec)
	if err != nil {
		return nil, err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		return pc, err
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			onPacket(p)
		}
	})
	return pc, nil
}

// Publisher is a send-only PeerConnection in codec and the track to write
// its samples to; Negotiate it with a WHIP URL.
func Publisher(codec string) (*webrtc.PeerConnection, *webrtc.TrackLocalStaticSample, error) {
	api, err := newAPI(codec)
	if err != nil {
		return nil, nil, err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, nil, err
	}
	track, err := webrtc.NewTrackLocalStaticSample(Caps[codec].RTPCodecCapability, "a", "bench")
	if err != nil {
		return pc, nil, err
	}
	if _, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
		return pc, nil, err
	}
	return pc, track, nil
}

// Negotiate posts pc's offer to url and applies the answer. A 403 is
// asked again every 100 ms, up to retryForbidden times (a call's names
// are issued a moment after the answer); 0 takes it as the answer.
func Negotiate(ctx context.Context, pc *webrtc.PeerConnection, url string, retryForbidden int) error {
	o, err := pc.CreateOffer(nil)
	if err != nil {
		return err
	}
	done := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(o); err != nil {
		return err
	}
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	for try := 0; ; try++ {
		status, body, err := post(ctx, url, pc.LocalDescription().SDP)
		switch {
		case err != nil:
			return err
		case status == http.StatusForbidden && try < retryForbidden:
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
			continue
		case status != http.StatusCreated:
			return fmt.Errorf("POST %s: %d %s", url, status, strings.TrimSpace(body))
		}
		return pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: body})
	}
}

func post(ctx context.Context, url, sdp string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader(sdp))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/sdp")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	return res.StatusCode, string(b), nil
}

// Connected reports whether pc exists and is connected.
func Connected(pc *webrtc.PeerConnection) bool {
	return pc != nil && pc.ConnectionState() == webrtc.PeerConnectionStateConnected
}

// Stamp is frame n of a pass-through stream: PCMU silence or an
// Opus-shaped packet (the TOC byte of a 20 ms CELT frame), its index and
// send time first (after the TOC byte for Opus). The server passes it
// through without decoding.
func Stamp(codec string, n uint32, now time.Time) []byte {
	if codec == "opus" {
		b := make([]byte, 60)
		b[0] = 0xF8
		binary.BigEndian.PutUint32(b[1:], n)
		binary.BigEndian.PutUint64(b[5:], uint64(now.UnixNano()))
		return b
	}
	b := make([]byte, 160)
	for i := range b {
		b[i] = 0xFF
	}
	binary.BigEndian.PutUint32(b, n)
	binary.BigEndian.PutUint64(b[4:], uint64(now.UnixNano()))
	return b
}
