package sipbridge

import (
	"context"
	"testing"
	"time"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/softphone"
)

// TestPeerSippTrunkAuthAndDTMF: the trunk (our sipp scenario) challenges
// with 407; the INVITE is re-sent with valid digest credentials (sipp
// verifies them), and the SDP offers PCMU and telephone-event. In the call
// the web phone sends DTMF 123#: the bridge sends RFC 4733 events, sipp
// echoes the RTP back, and the bridge's detector turns them into onDTMF
// events for the phone: both directions of DTMF through a real peer.
func TestPeerSippTrunkAuthAndDTMF(t *testing.T) {
	uas, addr := testpeer.SippUAS(t, 30*time.Second, 1, "-sf", "testdata/uas_auth.xml")
	e := startEnv(t, func(o *Options) {
		tr := trunk(addr)
		tr.Username, tr.Password = "trunkuser", "trunkpass"
		o.Trunks = []Trunk{tr}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := softphone.Call(ctx, softphone.Options{Server: e.rtmpURL, User: "alice", Secret: "alice", Codec: codec.Nellymoser,
		Mic: mic(), Duration: 3 * time.Second, SetupTimeout: 10 * time.Second, DTMF: "123#"}, "+15551234567")
	if err != nil {
		t.Fatalf("call: %v", err)
	}
	if r.Digits != "123#" {
		t.Errorf("digits echoed back = %q, want 123#", r.Digits)
	}
	checkHeard(t, "alice", r.Heard)
	if err := uas.Wait(); err != nil {
		t.Fatalf("sipp uas: %v\n%s", err, uas.Output())
	}
}

// TestPeerSippTrunkHangsUp: the trunk sends BYE; the web call ends with
// onBye, and sipp's call succeeds.
func TestPeerSippTrunkHangsUp(t *testing.T) {
	uas, addr := testpeer.SippUAS(t, 30*time.Second, 1, "-sf", "testdata/uas_bye.xml")
	e := startEnv(t, func(o *Options) { o.Trunks = []Trunk{trunk(addr)} })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := softphone.Call(ctx, softphone.Options{Server: e.rtmpURL, User: "alice", Secret: "alice", Codec: codec.Speex,
		Mic: mic(), SetupTimeout: 10 * time.Second}, "+15551234567")
	if err != nil {
		t.Fatalf("call: %v", err)
	}
	if r.End == nil || r.End.GetString("type") != "bye" || r.End.GetString("by") != "+15551234567" {
		t.Errorf("end event = %v", r.End)
	}
	if err := uas.Wait(); err != nil {
		t.Fatalf("sipp uas: %v\n%s", err, uas.Output())
	}
}
