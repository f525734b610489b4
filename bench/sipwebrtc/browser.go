package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// The browser side of each call: a pion WHEP player and WHIP publisher,
// as a web page in a call opens them (/phone/USER/whep and /whip).

var caps = map[string]webrtc.RTPCodecParameters{
	"pcmu": {RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000}, PayloadType: 0},
	"opus": {RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, PayloadType: 111},
}

// newAPI is a pion API offering only codec, on 127.0.0.1.
func newAPI(codec string) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(caps[codec], webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	var s webrtc.SettingEngine
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	s.SetIncludeLoopbackCandidate(true)
	s.SetIPFilter(func(ip net.IP) bool { return ip.Equal(net.IPv4(127, 0, 0, 1)) })
	s.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(s)), nil
}

// negotiate posts pc's offer to url and applies the answer; a 403 (the
// call's names not issued yet) is retried for a few seconds.
func negotiate(ctx context.Context, pc *webrtc.PeerConnection, url string) error {
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
		case status == http.StatusForbidden && try < 50:
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

// startPlayer opens c's WHEP player; packets go to c.down.
func (r *runState) startPlayer(ctx context.Context, c *benchCall, url string) error {
	api, err := newAPI(r.browserCodec)
	if err != nil {
		return err
	}
	if c.play, err = api.NewPeerConnection(webrtc.Configuration{}); err != nil {
		return err
	}
	if _, err := c.play.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		return err
	}
	c.play.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			c.down.receive(r.passThrough, r.browserCodec, p.Timestamp, p.Payload, time.Now())
		}
	})
	return negotiate(ctx, c.play, url)
}

// startPublisher opens c's WHIP publisher.
func (r *runState) startPublisher(ctx context.Context, c *benchCall, url string) error {
	api, err := newAPI(r.browserCodec)
	if err != nil {
		return err
	}
	if c.pub, err = api.NewPeerConnection(webrtc.Configuration{}); err != nil {
		return err
	}
	if c.track, err = webrtc.NewTrackLocalStaticSample(caps[r.browserCodec].RTPCodecCapability, "a", "bench"); err != nil {
		return err
	}
	if _, err := c.pub.AddTransceiverFromTrack(c.track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
		return err
	}
	return negotiate(ctx, c.pub, url)
}

func connected(pc *webrtc.PeerConnection) bool {
	return pc != nil && pc.ConnectionState() == webrtc.PeerConnectionStateConnected
}
