package whipload

import (
	"context"
	"net"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	pmedia "github.com/pion/webrtc/v4/pkg/media"
)

// pionClient opens a pion PeerConnection per session, as the benches did
// before the plane: a browser's shape, and its cost.
type pionClient struct{}

func (pionClient) Close() {}

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

// pionPeer is one PeerConnection; track is set on a publisher.
type pionPeer struct {
	pc    *webrtc.PeerConnection
	track *webrtc.TrackLocalStaticSample
}

func (p *pionPeer) Connected() bool {
	return p.pc.ConnectionState() == webrtc.PeerConnectionStateConnected
}

func (p *pionPeer) Close() { _ = p.pc.Close() }

func (p *pionPeer) WriteFrame(payload []byte) error {
	return p.track.WriteSample(pmedia.Sample{Data: payload, Duration: 20 * time.Millisecond})
}

// newPionPeer is a PeerConnection of its own API for codec.
func newPionPeer(codec string) (*pionPeer, error) {
	api, err := newAPI(codec)
	if err != nil {
		return nil, err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	return &pionPeer{pc: pc}, nil
}

// Player is a receive-only PeerConnection in codec whose packets go to
// onPacket on pion's track goroutine.
func (pionClient) Player(ctx context.Context, codec, url string, retryForbidden int, onPacket func(*rtp.Packet)) (Peer, error) {
	p, err := newPionPeer(codec)
	if err != nil {
		return nil, err
	}
	pc := p.pc
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		p.Close()
		return nil, err
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for {
			pkt, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			onPacket(pkt)
		}
	})
	if err := negotiate(ctx, pc, url, retryForbidden); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// Publisher is a send-only PeerConnection in codec writing samples to
// its track (pion numbers and stamps the packets).
func (pionClient) Publisher(ctx context.Context, codec, url string, retryForbidden int) (Publisher, error) {
	p, err := newPionPeer(codec)
	if err != nil {
		return nil, err
	}
	pc := p.pc
	if p.track, err = webrtc.NewTrackLocalStaticSample(Caps[codec].RTPCodecCapability, "a", "bench"); err != nil {
		p.Close()
		return nil, err
	}
	if _, err := pc.AddTransceiverFromTrack(p.track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
		p.Close()
		return nil, err
	}
	if err := negotiate(ctx, pc, url, retryForbidden); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// negotiate posts pc's offer, its candidates gathered, and applies the
// answer.
func negotiate(ctx context.Context, pc *webrtc.PeerConnection, url string, retryForbidden int) error {
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
	body, err := exchange(ctx, url, pc.LocalDescription().SDP, retryForbidden)
	if err != nil {
		return err
	}
	return pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: body})
}
