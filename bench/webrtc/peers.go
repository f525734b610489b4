package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
	pmedia "github.com/pion/webrtc/v4/pkg/media"
)

// caps are the codecs the load client offers, one per session.
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

// stream is one WHIP publisher and its WHEP player.
type stream struct {
	pub, play *webrtc.PeerConnection
	track     *webrtc.TrackLocalStaticSample
	sendNs    []atomic.Int64 // by frame index: when it was written (transcoded mode)

	mu     sync.Mutex
	seen   map[uint32]bool // frame indexes received
	delays []time.Duration
	ts0    uint32
	have   bool
}

// whip/whep posts pc's offer to url and applies the answer.
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
	req, err := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader(pc.LocalDescription().SDP))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/sdp")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if res.StatusCode != http.StatusCreated {
		return fmt.Errorf("POST %s: %d %s", url, res.StatusCode, strings.TrimSpace(string(b)))
	}
	return pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(b)})
}

// startPlayer opens the WHEP player of s; received frames go to s.receive.
func (r *runState) startPlayer(ctx context.Context, s *stream, url string) error {
	api, err := newAPI(r.playCodec)
	if err != nil {
		return err
	}
	if s.play, err = api.NewPeerConnection(webrtc.Configuration{}); err != nil {
		return err
	}
	if _, err := s.play.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		return err
	}
	s.play.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			r.receive(s, p.Timestamp, p.Payload, time.Now())
		}
	})
	return negotiate(ctx, s.play, url)
}

// startPublisher opens the WHIP publisher of s.
func (r *runState) startPublisher(ctx context.Context, s *stream, url string) error {
	api, err := newAPI(r.pubCodec)
	if err != nil {
		return err
	}
	if s.pub, err = api.NewPeerConnection(webrtc.Configuration{}); err != nil {
		return err
	}
	if s.track, err = webrtc.NewTrackLocalStaticSample(caps[r.pubCodec].RTPCodecCapability, "a", "bench"); err != nil {
		return err
	}
	if _, err := s.pub.AddTransceiverFromTrack(s.track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
		return err
	}
	return negotiate(ctx, s.pub, url)
}

// receive books one packet: pass-through frames say their index and send
// time in their first 12 bytes; transcoded ones are matched by their RTP
// timestamp to the frame sent at that index (the player was there before
// the publisher's first frame).
func (r *runState) receive(s *stream, ts uint32, payload []byte, now time.Time) {
	var idx uint32
	var sent int64
	if r.transcoded {
		s.mu.Lock()
		if !s.have {
			s.ts0, s.have = ts, true
		}
		idx = (ts - s.ts0) / (caps[r.playCodec].ClockRate / 50)
		s.mu.Unlock()
		if int(idx) >= len(s.sendNs) {
			return
		}
		sent = s.sendNs[idx].Load()
	} else {
		off := 0
		if r.playCodec == "opus" {
			off = 1 // after the TOC byte
		}
		if len(payload) < off+12 {
			return
		}
		idx = binary.BigEndian.Uint32(payload[off:])
		sent = int64(binary.BigEndian.Uint64(payload[off+4:]))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen[idx] || sent == 0 {
		return
	}
	s.seen[idx] = true
	s.delays = append(s.delays, now.Sub(time.Unix(0, sent)))
}

// frame is the payload of frame n of a pass-through stream: PCMU silence
// or an Opus-shaped packet (TOC byte of a 20 ms CELT frame), its index and
// send time first. The server passes it through without decoding.
func frame(codec string, n uint32, now time.Time) []byte {
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

// write sends frame n of s.
func (r *runState) write(s *stream, n uint32) {
	now := time.Now()
	var data []byte
	if r.transcoded && r.pubCodec == "opus" {
		data = r.tone[int(n)%len(r.tone)]
	} else {
		data = frame(r.pubCodec, n, now)
	}
	if int(n) < len(s.sendNs) {
		s.sendNs[n].Store(now.UnixNano())
	}
	if err := s.track.WriteSample(pmedia.Sample{Data: data, Duration: 20 * time.Millisecond}); err == nil {
		r.sent.Add(1)
	}
}
