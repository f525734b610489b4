package phone_test

import (
	"testing"
	"time"

	"github.com/flashvox/flashvox/call"
)

// TestPageSignalNotPushed: bob's RTMP phone shares his event log with his
// web page; the WebRTC signals of the page's direct call with alice's page
// are not pushed to the phone (no method for them), and the phone still
// gets the call's next event (onDTMF) in order.
func TestPageSignalNotPushed(t *testing.T) {
	st := startStack(t, time.Minute)
	phoneBob := mustDial(t, st, "bob", "bob")
	a, endA := st.calls.HTTPBegin("alice")
	defer endA()
	b, endB := st.calls.HTTPBegin("bob")
	defer endB()
	id, err := st.calls.Invite(a, "bob", call.PeerWebRTC)
	if err != nil {
		t.Fatal(err)
	}
	if acc, err := st.calls.Accept(b, id, call.PeerWebRTC); err != nil || acc.Mode != call.ModeP2P {
		t.Fatalf("accept: %+v %v", acc, err)
	}
	phoneBob.expect("onIncomingCall")
	phoneBob.expect("onCancelled") // answered elsewhere: on bob's page
	if err := st.calls.Signal(a, id, `{"type":"offer","sdp":"v=0"}`); err != nil {
		t.Fatal(err)
	}
	if err := st.calls.DTMF(a, id, "7"); err != nil {
		t.Fatal(err)
	}
	if o := phoneBob.expect("onDTMF"); o.GetString("digits") != "7" {
		t.Fatalf("onDTMF %v", o)
	}
}
