package app

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/store"
	"github.com/flashvox/flashvox/webrtc"
	"github.com/flashvox/flashvox/webrtc/plane"
)

// TestWebRTCSessionRecords: a page's WHIP and WHEP sessions, ending after
// their call's record, are stored under the call with their figures (loss
// each way, jitter where the audio was received, RTT), and the call's
// record takes the worst of them; a session of any other stream is
// stored with no call, and a session that brought no figures has none.
func TestWebRTCSessionRecords(t *testing.T) {
	db := openTestStore(t)
	defer db.Close()
	w := newCDRWriter(db, nil, nil, slog.New(slog.DiscardHandler))
	now := time.Now()
	streams := [2]string{"phone/alice-1", "phone/bob-1"}
	w.CallAnswered("c1", streams)
	w.CallEnded(call.Record{Call: "c1", From: "alice", To: "bob", Started: now, Answered: now, Ended: now.Add(time.Minute), Event: call.EvBye, Streams: streams})
	rw := w.webrtcRecorder()
	rw.SessionEnded(webrtc.SessionRecord{ID: "whip1", Stream: "phone/alice-1", Addr: "192.0.2.7", Publish: true, Codec: "opus", Engine: webrtc.EngineLite,
		Started: now, Ended: now.Add(time.Minute), Reason: "deleted",
		Reports: &plane.Reports{Received: 2970, Lost: 30, Jitter: 3 * time.Millisecond, RTT: 2 * time.Millisecond}})
	rw.SessionEnded(webrtc.SessionRecord{ID: "whep1", Stream: "phone/bob-1", Addr: "192.0.2.7", Codec: "opus", Engine: webrtc.EngineLite,
		Started: now, Ended: now.Add(time.Minute), Reason: "deleted",
		Reports: &plane.Reports{Sent: 3000, PeerReports: 12, PeerLost: 60, PeerJitter: 5 * time.Millisecond}})
	rw.SessionEnded(webrtc.SessionRecord{ID: "whep2", Stream: "live/radio", Addr: "192.0.2.9", Codec: "pcmu", Engine: webrtc.EnginePion,
		Started: now, Ended: now.Add(time.Second), Reason: "connection closed"})
	w.close()

	ss, err := db.WebRTCSessions(context.Background(), store.CDRFilter{})
	if err != nil || len(ss) != 3 {
		t.Fatalf("sessions %+v %v", ss, err)
	}
	by := map[string]store.WebRTCSession{}
	for _, s := range ss {
		by[s.ID] = s
	}
	want := func(what string, got *float64, v float64) {
		t.Helper()
		if got == nil || *got != v {
			t.Errorf("%s = %s, want %v", what, store.FormatFloat(got), v)
		}
	}
	pub, play, other := by["whip1"], by["whep1"], by["whep2"]
	if pub.CallID != "c1" || pub.Direction != "whip" || *pub.PacketsIn != 2970 || pub.LossOutPct != nil {
		t.Errorf("alice's WHIP %+v", pub)
	}
	want("WHIP loss in", pub.LossInPct, 1)
	want("WHIP jitter", pub.JitterMS, 3)
	want("WHIP rtt", pub.RTTMS, 2)
	if play.CallID != "c1" || play.Direction != "whep" || *play.PacketsOut != 3000 || play.LossInPct != nil || play.RTTMS != nil {
		t.Errorf("bob's stream's WHEP %+v", play)
	}
	want("WHEP loss out", play.LossOutPct, 2)
	want("WHEP jitter (the browser's)", play.JitterMS, 5)
	if other.CallID != "" || other.PacketsIn != nil || other.LossInPct != nil || other.JitterMS != nil {
		t.Errorf("a session of another stream, without figures: %+v", other)
	}
	cs, _ := db.CDRs(context.Background(), store.CDRFilter{})
	if len(cs) != 1 {
		t.Fatalf("records %+v", cs)
	}
	want("the call's loss", cs[0].LossPct, 2)
	want("the call's jitter", cs[0].JitterMS, 5)
}

// TestCallByStreamForgets: an ended call's streams name it for
// endedCallGrace, a running call's for as long as it runs; a call's end
// covers the streams noted at its answer even when its record names
// others (or none).
func TestCallByStreamForgets(t *testing.T) {
	var c callByStream
	long := time.Now().Add(-2 * endedCallGrace)
	c.note("live", [2]string{"phone/c", ""}, time.Time{}) // pruned just now
	c.note("old", [2]string{"phone/a", "phone/b"}, long)
	if c.call("phone/a") != "old" || c.call("phone/c") != "live" || c.call("") != "" {
		t.Fatal("not noted")
	}
	c.pruned = long // the next note prunes
	c.note("new", [2]string{"phone/d", "phone/e"}, time.Now())
	if c.call("phone/a") != "" || c.call("phone/b") != "" {
		t.Error("an ended call's streams outlived the grace")
	}
	if c.call("phone/c") != "live" || c.call("phone/e") != "new" {
		t.Error("a running or just ended call's streams were dropped")
	}
	c.note("live", [2]string{}, long) // ended, its record naming no stream
	c.pruned = long
	c.note("other", [2]string{"phone/f", ""}, time.Time{})
	if c.call("phone/c") != "" || len(c.keys["live"]) != 0 {
		t.Errorf("an ended call's stream noted at its answer outlived the grace: %q, keys %v", c.call("phone/c"), c.keys)
	}
}
