package webrtc

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/webrtc/v4"
)

// DefaultSTUNGatherTimeout bounds how long an answer waits for the
// server's own srflx candidates (Options.STUNServers): two Binding
// requests (pion retransmits after 500 ms), then the answer goes without
// the candidates of servers that did not answer.
const DefaultSTUNGatherTimeout = time.Second

// MaxSTUNServers bounds Options.STUNServers: each costs every session one
// more UDP socket and its Binding requests.
const MaxSTUNServers = 4

// reflexiveServers checks Options.STUNServers and makes them the ICE
// servers every session's PeerConnection gathers srflx candidates with:
// stun: over UDP only (pion gathers srflx over UDP only; stuns: and turn:
// would be either ignored or a relay the server does not need).
func reflexiveServers(urls []string) ([]webrtc.ICEServer, error) {
	if len(urls) == 0 {
		return nil, nil
	}
	if len(urls) > MaxSTUNServers {
		return nil, fmt.Errorf("webrtc: %d STUN servers for srflx candidates, at most %d", len(urls), MaxSTUNServers)
	}
	for _, u := range urls {
		uri, err := stun.ParseURI(u)
		if err != nil {
			return nil, fmt.Errorf("webrtc: STUN server %q: %w", u, err)
		}
		if uri.Scheme != stun.SchemeTypeSTUN || uri.Proto != stun.ProtoTypeUDP || strings.Contains(u, "?") || uri.Port <= 0 {
			return nil, fmt.Errorf("webrtc: STUN server %q: must be stun:HOST[:PORT] (UDP)", u)
		}
	}
	return []webrtc.ICEServer{{URLs: append([]string(nil), urls...)}}, nil
}

// answer applies offer to pc and returns the answer with the candidates
// gathered (WHIP/WHEP without trickle: the answer is the only signalling).
// Host candidates come at once; srflx ones (Options.STUNServers) after a
// STUN round trip, waited for at most wait: a STUN server that does not
// answer delays the answer that long and no more, and the answer goes with
// what was gathered by then (host candidates, the srflx of servers that
// answered; later ones are not sent). srflx says whether the answer has a
// srflx candidate.
func answer(ctx context.Context, pc *webrtc.PeerConnection, offer string, wait time.Duration) (sdp string, srflx bool, err error) {
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", false, fmt.Errorf("%w: %v", errBadOffer, err)
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return "", false, fmt.Errorf("%w: %v", errBadOffer, err)
	}
	// The first candidate (a host one: gathered without a round trip)
	// marks an answer worth sending when the wait is over.
	first := make(chan struct{})
	var once sync.Once
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			once.Do(func() { close(first) })
		}
	})
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		return "", false, fmt.Errorf("webrtc: set local description: %w", err)
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-gathered:
	case <-t.C:
		select {
		case <-gathered:
		case <-first:
		case <-ctx.Done():
			return "", false, fmt.Errorf("webrtc: gathering candidates: %w", ctx.Err())
		}
	case <-ctx.Done():
		return "", false, fmt.Errorf("webrtc: gathering candidates: %w", ctx.Err())
	}
	sdp = pc.LocalDescription().SDP
	return sdp, strings.Contains(sdp, " typ srflx"), nil
}
