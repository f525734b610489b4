package web

import (
	"testing"

	"github.com/flashvox/flashvox/call"
)

// TestAPICallState: GET /calls and /calls/{id} show a party its calls:
// ringing without a mode, active with mode relay (two HTTP parties), 403
// to a stranger, 404 once ended; the bye event records the mode.
func TestAPICallState(t *testing.T) {
	e := newAPIEnv(t)
	ta, tb, tc := e.login("alice"), e.login("bob"), e.login("carol")
	pa, pb := &poller{e: e, token: ta}, &poller{e: e, token: tb}
	pa.poll("")
	pb.poll("") // bob's HTTP device is online from its first request
	var inv map[string]string
	if code := e.do("POST", "/calls", ta, `{"to":"bob"}`, &inv); code != 201 {
		t.Fatalf("invite: %d %v", code, inv)
	}
	id := inv["call"]
	pa.expect(call.EvRinging)
	var st call.State
	if code := e.do("GET", "/calls/"+id, tb, "", &st); code != 200 || st != (call.State{Call: id, From: "alice", To: "bob", State: call.StateRinging}) {
		t.Fatalf("ringing: %d %+v", code, st)
	}
	var errOut map[string]string
	if code := e.do("GET", "/calls/"+id, tc, "", &errOut); code != 403 || errOut["error"] != "not_party" {
		t.Fatalf("carol: %d %v", code, errOut)
	}
	if code := e.do("POST", "/calls/"+id+"/accept", tb, "", nil); code != 200 {
		t.Fatalf("accept: %d", code)
	}
	pa.expect(call.EvAccepted)
	var list struct{ Calls []call.State }
	if code := e.do("GET", "/calls", ta, "", &list); code != 200 || len(list.Calls) != 1 ||
		list.Calls[0] != (call.State{Call: id, From: "alice", To: "bob", State: call.StateActive, Mode: call.ModeRelay}) {
		t.Fatalf("active: %d %+v", code, list)
	}
	if code := e.do("POST", "/calls/"+id+"/hangup", ta, "", nil); code != 200 {
		t.Fatalf("hangup: %d", code)
	}
	if ev := pa.expect(call.EvBye); ev.Mode != call.ModeRelay {
		t.Errorf("bye does not record the mode: %+v", ev)
	}
	if code := e.do("GET", "/calls/"+id, ta, "", &errOut); code != 404 || errOut["error"] != "no_call" {
		t.Fatalf("ended: %d %v", code, errOut)
	}
	list.Calls = nil
	if code := e.do("GET", "/calls", ta, "", &list); code != 200 || list.Calls == nil || len(list.Calls) != 0 {
		t.Fatalf("after the call: %d %+v", code, list)
	}
}

// TestAPICallStateP2PFallback: a call between two direct (RTMFP) devices
// shows mode p2p; after p2pFailed the record says relay and fellBack, and
// the HTTP event log has the media event with reason p2p_failed.
func TestAPICallStateP2PFallback(t *testing.T) {
	e := newAPIEnv(t)
	ta := e.login("alice")
	pa := &poller{e: e, token: ta}
	pa.poll("")
	a, b := e.calls.Attach("alice", call.KindRTMP), e.calls.Attach("bob", call.KindRTMP)
	e.calls.SetDirect(a)
	e.calls.SetDirect(b)
	id, err := e.calls.Invite(a, "bob", "peer-a")
	if err != nil {
		t.Fatal(err)
	}
	pa.expect(call.EvRinging)
	if _, err := e.calls.Accept(b, id, "peer-b"); err != nil {
		t.Fatal(err)
	}
	if ev := pa.expect(call.EvAccepted); ev.Mode != call.ModeP2P || ev.PeerID != "peer-b" {
		t.Errorf("accepted %+v", ev)
	}
	var st call.State
	if code := e.do("GET", "/calls/"+id, ta, "", &st); code != 200 || st.Mode != call.ModeP2P || st.FellBack {
		t.Fatalf("p2p call: %d %+v", code, st)
	}
	if err := e.calls.P2PFailed(b, id); err != nil {
		t.Fatal(err)
	}
	if code := e.do("GET", "/calls/"+id, ta, "", &st); code != 200 || st.Mode != call.ModeRelay || !st.FellBack || st.State != call.StateActive {
		t.Fatalf("after the fallback: %d %+v", code, st)
	}
	if ev := pa.expect(call.EvMedia); ev.Mode != call.ModeRelay || ev.Reason != call.ReasonP2PFailed || ev.By != "bob" {
		t.Errorf("media event %+v", ev)
	}
}
