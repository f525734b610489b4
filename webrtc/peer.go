package webrtc

import (
	"context"
	"fmt"
	"net"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
)

// opusCodec is the one codec the edge negotiates: Opus as every browser
// offers it (RFC 7587: always opus/48000/2 in SDP, mono content is fine).
var opusCodec = webrtc.RTPCodecParameters{
	RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
		SDPFmtpLine: "minptime=10;useinbandfec=1",
	},
	PayloadType: 111,
}

// newAPI builds the pion API every session shares: Opus only, the default
// interceptors (NACK, RTCP reports), host candidates on the configured
// address only, no mDNS (no multicast traffic; the browser's .local
// candidates are not needed: its checks reach us as peer-reflexive ones).
func newAPI(o *Options) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(opusCodec, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("webrtc: register opus: %w", err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		return nil, fmt.Errorf("webrtc: interceptors: %w", err)
	}
	ip := net.ParseIP(o.ICEAddress)
	if ip == nil {
		return nil, fmt.Errorf("webrtc: ICE address %q is not an IP address", o.ICEAddress)
	}
	var s webrtc.SettingEngine
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	s.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	s.SetIPFilter(func(c net.IP) bool { return c.Equal(ip) })
	s.SetIncludeLoopbackCandidate(ip.IsLoopback())
	if o.PublicIP != "" {
		s.SetNAT1To1IPs([]string{o.PublicIP}, webrtc.ICECandidateTypeHost)
	}
	if o.UDPPortMin != 0 || o.UDPPortMax != 0 {
		if err := s.SetEphemeralUDPPortRange(o.UDPPortMin, o.UDPPortMax); err != nil {
			return nil, fmt.Errorf("webrtc: UDP ports: %w", err)
		}
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(s)), nil
}

// answer applies offer to pc and returns the complete answer (all host
// candidates gathered: WHIP/WHEP without trickle).
func answer(ctx context.Context, pc *webrtc.PeerConnection, offer string) (string, error) {
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", fmt.Errorf("%w: %v", errBadOffer, err)
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("%w: %v", errBadOffer, err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		return "", fmt.Errorf("webrtc: set local description: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", fmt.Errorf("webrtc: gathering candidates: %w", ctx.Err())
	}
	return pc.LocalDescription().SDP, nil
}
