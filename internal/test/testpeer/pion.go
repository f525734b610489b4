package testpeer

import (
	"testing"

	pionwebrtc "github.com/pion/webrtc/v4"
)

// PionOffer is a real receive-only Opus offer made by a pion client (a WHEP
// player's), closed when the test ends.
func PionOffer(t testing.TB) string {
	t.Helper()
	pc, err := pionwebrtc.NewPeerConnection(pionwebrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	if _, err := pc.AddTransceiverFromKind(pionwebrtc.RTPCodecTypeAudio, pionwebrtc.RTPTransceiverInit{Direction: pionwebrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		t.Fatal(err)
	}
	o, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	return o.SDP
}
