package webrtc

import (
	"fmt"
	"net"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
)

// settings builds the SettingEngine every session shares: host
// candidates on the configured address only, no mDNS (no multicast
// traffic; the browser's .local candidates are not needed: its checks
// reach us as peer-reflexive ones).
func settings(o *Options) (webrtc.SettingEngine, error) {
	var s webrtc.SettingEngine
	ip := net.ParseIP(o.ICEAddress)
	if ip == nil {
		return s, fmt.Errorf("webrtc: ICE address %q is not an IP address", o.ICEAddress)
	}
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	s.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	s.SetIPFilter(func(c net.IP) bool { return c.Equal(ip) })
	s.SetIncludeLoopbackCandidate(ip.IsLoopback())
	if ips := o.publicIPs(); len(ips) > 0 {
		s.SetNAT1To1IPs(ips, webrtc.ICECandidateTypeHost)
	}
	if len(o.STUNServers) > 0 {
		// pion's own bound on a Binding transaction, the same as the
		// answer's: its sockets are not held for a server that is gone.
		s.SetSTUNGatherTimeout(o.STUNGatherTimeout)
	}
	if o.UDPPortMin != 0 || o.UDPPortMax != 0 {
		if err := s.SetEphemeralUDPPortRange(o.UDPPortMin, o.UDPPortMax); err != nil {
			return s, fmt.Errorf("webrtc: UDP ports: %w", err)
		}
	}
	return s, nil
}

// sessionAPI builds one session's pion API: the one codec chosen from the
// offer (so pion's answer has exactly it) and, when the offer has it at
// that codec's clock, telephone-event; of pion's interceptors only the
// RTCP sender and receiver reports (what a browser's stats and RTT need).
// Not the others of webrtc.RegisterDefaultInterceptors, measured per
// packet in BENCHMARKS.md: the stats interceptor (nothing here reads
// pion's stats; a lock, clock reads and a record per packet each way),
// the TWCC sender (a transport-wide-cc feedback packet to each publisher
// every 100 ms: more SRTCP packets than the audio's 50 a second get
// reports; Opus at a fixed bitrate needs no send-side estimate), NACK
// (browsers ask no retransmission of audio; pion binds it to video only)
// and the simulcast header extensions (video). A MediaEngine per session:
// pion keeps negotiation state in it.
func sessionAPI(se webrtc.SettingEngine, c rtpCodec, events bool) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: c.cap, PayloadType: c.pt}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("webrtc: register %s: %w", c.id, err)
	}
	if events {
		ev := webrtc.RTPCodecParameters{
			RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: mimeTelephoneEvent, ClockRate: c.cap.ClockRate, SDPFmtpLine: "0-15"},
			PayloadType:        eventPT(c.cap.ClockRate),
		}
		if err := m.RegisterCodec(ev, webrtc.RTPCodecTypeAudio); err != nil {
			return nil, fmt.Errorf("webrtc: register telephone-event: %w", err)
		}
	}
	ir := &interceptor.Registry{}
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return nil, fmt.Errorf("webrtc: interceptors: %w", err)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// eventPT is the payload type telephone-event is registered with
// (Chromium's numbers; the answer takes the offer's anyway).
func eventPT(clock uint32) webrtc.PayloadType {
	if clock == 48000 {
		return 110
	}
	return 126
}
