package webrtc_test

import (
	"net/http"
	"strings"
	"testing"

	pionwebrtc "github.com/pion/webrtc/v4"

	fvrtc "github.com/flashvox/flashvox/webrtc"
)

// TestAnswerWithoutTransportCC: an offer with transport-cc (pion's
// defaults, as a browser's) gets an answer without it and without NACK:
// the edge runs only the RTCP report interceptors, so it must not
// promise feedback it does not send.
func TestAnswerWithoutTransportCC(t *testing.T) {
	e := startEdge(t, nil, fvrtc.Options{})
	pc, err := pcmuClientAPI(t).NewPeerConnection(pionwebrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.AddTransceiverFromKind(pionwebrtc.RTPCodecTypeAudio, pionwebrtc.RTPTransceiverInit{Direction: pionwebrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		t.Fatal(err)
	}
	o, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(o.SDP, "transport-cc") {
		t.Fatalf("the client's offer has no transport-cc, nothing to refuse:\n%s", o.SDP)
	}
	res, ans := post(t, e.url+"/live/rtcp/whep", "application/sdp", "", []byte(o.SDP))
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("POST: %d %s", res.StatusCode, ans)
	}
	for _, no := range []string{"transport-cc", "transport-wide-cc", "nack"} {
		if strings.Contains(ans, no) {
			t.Errorf("the answer has %q:\n%s", no, ans)
		}
	}
	if !strings.Contains(ans, "PCMU/8000") {
		t.Errorf("the answer has no PCMU:\n%s", ans)
	}
}
