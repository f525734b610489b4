package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/flashvox/flashvox/call"
)

// TestAPISignal: two pages (peerId webrtc) get a p2p call; an offer and a
// candidate reach the other party as signal events, exactly the checked
// fields; a stranger, malformed or oversized signals and a flood are
// refused; media relay switches the call (fellBack) and stops signals.
func TestAPISignal(t *testing.T) {
	e := newAPIEnv(t)
	ta, tb, tc := e.login("alice"), e.login("bob"), e.login("carol")
	pa, pb := &poller{e: e, token: ta}, &poller{e: e, token: tb}
	pa.poll("")
	pb.poll("")
	var inv map[string]string
	if code := e.do("POST", "/calls", ta, `{"to":"bob","peerId":"webrtc"}`, &inv); code != 201 {
		t.Fatalf("invite: %d %v", code, inv)
	}
	id := inv["call"]
	pa.expect(call.EvRinging)
	pb.expect(call.EvIncoming)
	var acc map[string]string
	if code := e.do("POST", "/calls/"+id+"/accept", tb, `{"peerId":"webrtc"}`, &acc); code != 200 || acc["mode"] != call.ModeP2P {
		t.Fatalf("accept: %d %v", code, acc)
	}
	pb.expect(call.EvAccepted)
	pa.expect(call.EvAccepted)
	offer := `{"type":"offer","sdp":"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n","extra":1}`
	if code := e.do("POST", "/calls/"+id+"/signal", ta, offer, nil); code != 400 {
		t.Fatalf("unknown field: %d", code)
	}
	offer = `{"type":"offer","sdp":"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n"}`
	if code := e.do("POST", "/calls/"+id+"/signal", ta, offer, nil); code != 200 {
		t.Fatalf("offer: %d", code)
	}
	ev := pb.expect(call.EvSignal)
	var got signalRequest
	if err := json.Unmarshal([]byte(ev.Signal), &got); err != nil || got.Type != "offer" || got.SDP != "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n" || ev.By != "alice" {
		t.Fatalf("bob got %+v (%v)", ev, err)
	}
	cand := `{"type":"candidate","candidate":{"candidate":"candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host","sdpMid":"0","sdpMLineIndex":0}}`
	if code := e.do("POST", "/calls/"+id+"/signal", tb, cand, nil); code != 200 {
		t.Fatalf("candidate: %d", code)
	}
	if ev := pa.expect(call.EvSignal); !strings.Contains(ev.Signal, "typ host") || ev.By != "bob" {
		t.Fatalf("alice got %+v", ev)
	}
	for _, c := range []struct {
		name, token, body, code string
		status                  int
	}{
		{"stranger", tc, offer, "not_party", 403},
		{"no token", "", offer, "no_token", 401},
		{"bad type", ta, `{"type":"bye"}`, "bad_request", 400},
		{"offer without sdp", ta, `{"type":"offer"}`, "bad_request", 400},
		{"not a candidate line", ta, `{"type":"candidate","candidate":{"candidate":"a=evil"}}`, "bad_request", 400},
		{"oversized", ta, fmt.Sprintf(`{"type":"offer","sdp":"v=0%s"}`, strings.Repeat("x", call.MaxSignalBytes)), "bad_request", 400},
	} {
		var out map[string]string
		if st := e.do("POST", "/calls/"+id+"/signal", c.token, c.body, &out); st != c.status || out["error"] != c.code {
			t.Errorf("%s: %d %v, want %d %s", c.name, st, out, c.status, c.code)
		}
	}
	flooded := false
	for i := 0; i < 50 && !flooded; i++ {
		var out map[string]string
		switch st := e.do("POST", "/calls/"+id+"/signal", ta, cand, &out); st {
		case 200:
		case 429:
			flooded = out["error"] == "too_many_signals"
		default:
			t.Fatalf("flood: %d %v", st, out)
		}
	}
	if !flooded {
		t.Fatal("50 signals at once were all passed")
	}
	var out map[string]string
	if st := e.do("POST", "/calls/"+id+"/media", ta, `{"mode":"p2p"}`, &out); st != 200 {
		t.Fatalf("media p2p: %d %v", st, out)
	}
	if st := e.do("POST", "/calls/"+id+"/media", tc, `{"mode":"relay"}`, &out); st != 403 {
		t.Fatalf("a stranger's fallback: %d %v", st, out)
	}
	if st := e.do("POST", "/calls/"+id+"/media", tb, `{"mode":"relay"}`, &out); st != 200 {
		t.Fatalf("media relay: %d %v", st, out)
	}
	var cs call.State
	if st := e.do("GET", "/calls/"+id, ta, "", &cs); st != 200 || cs.Mode != call.ModeRelay || !cs.FellBack {
		t.Fatalf("after the fallback: %d %+v", st, cs)
	}
	if st := e.do("POST", "/calls/"+id+"/signal", tb, cand, &out); st != 409 {
		t.Fatalf("signal after the fallback: %d %v", st, out)
	}
	if st := e.do("POST", "/calls/"+id+"/media", ta, `{"mode":"p2p"}`, &out); st != 409 {
		t.Fatalf("p2p after the fallback: %d %v", st, out)
	}
	if st := e.do("POST", "/calls/"+id+"/media", ta, `{"mode":"tcp"}`, &out); st != 400 {
		t.Fatalf("bad mode: %d %v", st, out)
	}
}

// FuzzSignalRequest: any signal body is refused with a 400 answer, or is
// accepted and survives the server's re-encoding unchanged (what the other
// page gets is exactly what was checked).
func FuzzSignalRequest(f *testing.F) {
	for _, s := range []string{
		`{"type":"offer","sdp":"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n"}`, `{"type":"answer","sdp":"v=0"}`,
		`{"type":"candidate","candidate":{"candidate":"candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host","sdpMid":"0","sdpMLineIndex":0}}`,
		`{"type":"candidate","candidate":{"candidate":"","usernameFragment":"abcd"}}`,
		`{"type":"bye"}`, `{"type":"offer"}`, `{"type":"candidate","candidate":{"candidate":"a=evil"}}`, `{"type":"offer","sdp":"v=0","x":1}`, ``, `[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var req signalRequest
		err := decodeBodyMax(bytes.NewReader(b), &req, call.MaxSignalBytes)
		if err == nil {
			err = req.check()
		}
		if err != nil {
			if errorFor(err).status != http.StatusBadRequest {
				t.Fatalf("%q: %v", b, err)
			}
			return
		}
		out, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		var again signalRequest
		// 8×: JSON escaping may grow the text (call.Signal bounds what is sent).
		if err := decodeBodyMax(bytes.NewReader(out), &again, 8*call.MaxSignalBytes); err != nil || again.check() != nil {
			t.Fatalf("re-encoded %q: %v", out, err)
		}
		if out2, _ := json.Marshal(again); string(out2) != string(out) {
			t.Fatalf("round trip %q -> %q", out, out2)
		}
	})
}

// TestSDPAudioCodec: the first codec of the first audio section, by its
// rtpmap or a static payload type; nothing without an audio section.
func TestSDPAudioCodec(t *testing.T) {
	for sdp, want := range map[string]string{
		"v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:111 opus/48000/2\r\n": "opus",
		"v=0\r\nm=audio 9 RTP/AVP 0 8\r\n": "pcmu",
		"v=0\r\nm=audio 9 RTP/AVP 9\n":     "g722",
		"v=0\r\nm=video 9 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\nm=audio 9 RTP/AVP 8\r\n":     "pcma",
		"v=0\r\nm=audio 9 RTP/AVP 101\r\nm=video 9 RTP/AVP 101\r\na=rtpmap:101 VP8/90000\r\n": "",
		"v=0\r\nm=video 9 RTP/AVP 96\r\n": "",
		"v=0\r\nm=audio\r\n":              "",
		"":                                "",
	} {
		if got := sdpAudioCodec(sdp); got != want {
			t.Errorf("%q: %q, want %q", sdp, got, want)
		}
	}
}

// FuzzSDPAudioCodec: any SDP gives a codec name that SetP2PCodec would
// take or refuse, never a panic; the name is a piece of the SDP.
func FuzzSDPAudioCodec(f *testing.F) {
	for _, s := range []string{"v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n", "m=audio 1 2 0", "m=audio 1 2 x\na=rtpmap:x /", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sdp string) {
		c := sdpAudioCodec(sdp)
		if c != "" && c != "pcmu" && c != "pcma" && c != "g722" && !strings.Contains(strings.ToLower(sdp), c) {
			t.Fatalf("%q: codec %q not in the SDP", sdp, c)
		}
	})
}
