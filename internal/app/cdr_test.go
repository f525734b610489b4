package app

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/conference"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/sipbridge"
	"github.com/flashvox/flashvox/store"
)

func openTestStore(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), store.URLForDataDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestCDRWriter: records queued while calls end are all in the store
// after close; with the store failing they are retried, then dropped and
// counted at close, and CallEnded never blocks.
func TestCDRWriter(t *testing.T) {
	db := openTestStore(t)
	defer db.Close()
	w := newCDRWriter(db, nil, nil, slog.New(slog.DiscardHandler))
	now := time.Now()
	for _, id := range []string{"a", "b", "c"} {
		w.CallEnded(call.Record{Call: id, From: "alice", To: "bob", Started: now, Ended: now, Event: call.EvBye, Reason: "shutdown"})
	}
	w.close()
	if cs, err := db.CDRs(context.Background(), store.CDRFilter{}); err != nil || len(cs) != 3 || cs[0].Reason != "shutdown" || w.Written.Load() != 3 {
		t.Fatalf("after close: %+v %v (written %d)", cs, err, w.Written.Load())
	}

	broken := openTestStore(t)
	broken.Close() // every write fails
	w = newCDRWriter(broken, nil, nil, slog.New(slog.DiscardHandler))
	start := time.Now()
	for range 1000 {
		w.CallEnded(call.Record{Call: "x", Started: now, Ended: now})
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("CallEnded blocked: %v for 1000", d)
	}
	w.close()
	if w.Dropped.Load() != 1000 || w.Written.Load() != 0 {
		t.Fatalf("written %d, dropped %d", w.Written.Load(), w.Dropped.Load())
	}
	var none *cdrWriter
	if none.recorder() != nil {
		t.Fatal("no store, but a recorder")
	}
	none.close()
}

// TestCDRMeter: a relayed call's record has the bytes and codec each
// party published (a republish counted once more, not twice); a stream
// nobody published (p2p) has no bytes (nil, not 0); the taps go at take.
func TestCDRMeter(t *testing.T) {
	db := openTestStore(t)
	defer db.Close()
	hub := media.NewHub(16, slog.New(slog.DiscardHandler))
	meter := newStreamMeter(hub, call.DefaultStreamPrefix)
	w := newCDRWriter(db, meter, nil, slog.New(slog.DiscardHandler))
	send := func(key string, id codec.ID, frames, size int) {
		p, err := hub.Publish(key)
		if err != nil {
			t.Fatal(err)
		}
		p.Write(&media.Frame{Kind: media.KindAudio, Codec: id, Config: true, Payload: make([]byte, 99)}) // not audio data
		for range frames {
			p.Write(&media.Frame{Kind: media.KindAudio, Codec: id, Rate: 16000, Channels: 1, Payload: make([]byte, size)})
		}
		p.Close()
	}
	send("phone/a", codec.Speex, 10, 40)
	send("phone/a", codec.Speex, 5, 40) // the caller published again
	send("phone/b", codec.Nellymoser, 3, 64)
	send("other/c", codec.PCMU, 3, 160) // not a call stream
	if meter.live() != 2 {
		t.Fatalf("%d streams metered, want 2", meter.live())
	}
	now := time.Now()
	w.CallEnded(call.Record{Call: "relay", From: "alice", To: "bob", Started: now, Ended: now, Event: call.EvBye, Streams: [2]string{"phone/a", "phone/b"}})
	w.CallEnded(call.Record{Call: "p2p", From: "alice", To: "bob", Started: now, Ended: now, Event: call.EvBye, Streams: [2]string{"phone/x", "phone/y"}})
	w.close()
	cs, err := db.CDRs(context.Background(), store.CDRFilter{})
	if err != nil || len(cs) != 2 {
		t.Fatalf("%+v %v", cs, err)
	}
	byID := map[string]store.CDR{cs[0].ID: cs[0], cs[1].ID: cs[1]}
	r := byID["relay"]
	if r.CallerBytes == nil || *r.CallerBytes != 15*40 || r.CalleeBytes == nil || *r.CalleeBytes != 3*64 || r.CallerCodec != "speex" || r.CalleeCodec != "nellymoser" {
		t.Errorf("relayed call's record %+v", r)
	}
	if p := byID["p2p"]; p.CallerBytes != nil || p.CalleeBytes != nil || p.CallerCodec != "" {
		t.Errorf("p2p call's record %+v", p)
	}
	if meter.live() != 0 || hub.SubscriberCount("phone/a") != 0 {
		t.Errorf("after the records: %d metered", meter.live())
	}
}

// TestMembershipRecords: a member who joins, sends audio and leaves, and
// one that shutdown puts out, each give a membership record with the
// room, the reason, and what the member sent (codec, bytes); the room's
// other streams (relay copies, mixes) are not metered.
func TestMembershipRecords(t *testing.T) {
	db := openTestStore(t)
	defer db.Close()
	hub := media.NewHub(16, slog.New(slog.DiscardHandler))
	meter := newStreamMeter(hub, call.DefaultStreamPrefix)
	w := newCDRWriter(db, meter, nil, slog.New(slog.DiscardHandler))
	confs := conference.New(conference.Options{Hub: hub, DefaultMode: conference.ModeRelay, Records: w.memberRecorder()})
	alice, ja, err := confs.Join("standup", conference.JoinOptions{User: "alice", Transport: call.KindRTMFP})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := confs.Join("standup", conference.JoinOptions{User: "bob"}); err != nil {
		t.Fatal(err)
	}
	key, err := confs.StreamKey("alice", ja.Publish, true)
	if err != nil {
		t.Fatal(err)
	}
	p, err := hub.Publish(key)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		p.Write(&media.Frame{Kind: media.KindAudio, Codec: codec.Speex, Rate: 16000, Channels: 1, Payload: make([]byte, 30)})
	}
	p.Close()
	alice.Leave()
	confs.Close() // bob: shutdown
	w.close()
	ms, err := db.Memberships(context.Background(), store.CDRFilter{})
	if err != nil || len(ms) != 2 {
		t.Fatalf("%+v %v", ms, err)
	}
	by := map[string]store.Membership{ms[0].Member: ms[0], ms[1].Member: ms[1]}
	a, b := by["alice"], by["bob"]
	if a.Room != "standup" || a.Transport != "rtmfp" || b.Transport != conference.KindWeb || a.Reason != conference.ReasonLeft || a.Bytes == nil || *a.Bytes != 150 || a.Codec != "speex" || a.Joined.IsZero() || a.Left.Before(a.Joined) {
		t.Errorf("alice's membership %+v", a)
	}
	if b.Reason != conference.ReasonShutdown || b.Bytes != nil {
		t.Errorf("bob's membership %+v", b)
	}
	if meter.live() != 0 {
		t.Errorf("%d streams still metered", meter.live())
	}
}

// TestSIPLegRecords: a SIP leg's record is stored with its counts, and the
// call's record takes its loss and jitter.
func TestSIPLegRecords(t *testing.T) {
	db := openTestStore(t)
	defer db.Close()
	w := newCDRWriter(db, nil, nil, slog.New(slog.DiscardHandler))
	now := time.Now()
	w.legRecorder().LegEnded(sipbridge.LegRecord{Call: "c1", SIPCallID: "x@h", Direction: "out", Peer: "carrier", Party: "alice", Codec: "pcmu",
		Started: now, Answered: now, Ended: now.Add(time.Second), Reason: "hangup", BytesIn: 8000, BytesOut: 7840, PacketsIn: 49, Lost: 1, JitterMS: 4.5})
	w.CallEnded(call.Record{Call: "c1", From: "alice", To: "+15551234567", Started: now, Ended: now.Add(time.Second), Event: call.EvBye})
	w.close()
	ls, err := db.SIPLegs(context.Background(), store.CDRFilter{User: "carrier"})
	if err != nil || len(ls) != 1 || *ls[0].BytesIn != 8000 || *ls[0].BytesOut != 7840 || *ls[0].LossPct != 2 || ls[0].SIPCallID != "x@h" {
		t.Fatalf("legs %+v %v", ls, err)
	}
	cs, _ := db.CDRs(context.Background(), store.CDRFilter{})
	if len(cs) != 1 || cs[0].LossPct == nil || *cs[0].LossPct != 2 || *cs[0].JitterMS != 4.5 {
		t.Errorf("the call's record %+v", cs)
	}
}
