package store

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

func testRecords(t *testing.T, d *DB, url string) {
	ctx := migrated(t, d)
	t0 := time.Unix(1_700_000_000, 0)
	var ms []Membership
	var ls []SIPLeg
	for i := range 4 {
		at := t0.Add(time.Duration(i) * time.Minute)
		ms = append(ms, Membership{ID: fmt.Sprintf("m%d", i), Room: "standup", Member: []string{"alice", "bob"}[i%2], Transport: "rtmp",
			Codec: "speex", Joined: at, Left: at.Add(time.Minute), Reason: "left"})
		ls = append(ls, SIPLeg{ID: fmt.Sprintf("l%d", i), CallID: fmt.Sprintf("c%d", i), SIPCallID: "x@h", Direction: "out", Peer: "carrier",
			Party: []string{"alice", "bob"}[i%2], Codec: "pcmu", Started: at, Answered: at.Add(time.Second), Ended: at.Add(time.Minute), Reason: "hangup"})
	}
	ms[0].Bytes = ptr[int64](4096)
	ls[0].BytesIn, ls[0].BytesOut, ls[0].LossPct, ls[0].JitterMS = ptr[int64](160), ptr[int64](320), ptr(0.5), ptr(3.0)
	ls[0].LossOutPct, ls[0].RTTMS = ptr(0.25), ptr(41.5)
	if err := d.AddMemberships(ctx, ms); err != nil {
		t.Fatal(err)
	}
	if err := d.AddSIPLegs(ctx, ls); err != nil {
		t.Fatal(err)
	}
	if err := d.AddSIPLegs(ctx, ls[:1]); err != nil { // again: kept once
		t.Fatal(err)
	}
	bob, err := d.Memberships(ctx, CDRFilter{User: "bob"})
	if err != nil || len(bob) != 2 || bob[0].ID != "m3" || bob[1].ID != "m1" || bob[0].Bytes != nil {
		t.Fatalf("bob's memberships %+v %v", bob, err)
	}
	all, _ := d.Memberships(ctx, CDRFilter{})
	if got := all[3]; got.Room != "standup" || got.Codec != "speex" || *got.Bytes != 4096 || !got.Left.Equal(t0.Add(time.Minute)) {
		t.Errorf("membership round trip %+v", got)
	}
	legs, err := d.SIPLegs(ctx, CDRFilter{User: "carrier", From: t0, To: t0.Add(2 * time.Minute)})
	if err != nil || len(legs) != 2 || legs[1].ID != "l0" {
		t.Fatalf("carrier's legs %+v %v", legs, err)
	}
	if got := legs[1]; *got.BytesIn != 160 || *got.BytesOut != 320 || *got.LossPct != 0.5 || *got.JitterMS != 3 || got.SIPCallID != "x@h" || got.Party != "alice" ||
		*got.LossOutPct != 0.25 || *got.RTTMS != 41.5 || legs[0].LossOutPct != nil {
		t.Errorf("leg round trip %+v", got)
	}
	if page, _ := d.SIPLegs(ctx, CDRFilter{User: "alice", Limit: 1, Offset: 1}); len(page) != 1 || page[0].ID != "l0" {
		t.Errorf("alice's second page %+v", page)
	}
	// A call's record takes its SIP leg's loss and jitter, whichever is
	// written first.
	if err := d.AddCDRs(ctx, []CDR{{ID: "c0", Caller: "alice", Callee: "+1555", Started: t0, Ended: t0, EndEvent: "bye"},
		{ID: "c9", Caller: "bob", Callee: "+1555", Started: t0, Ended: t0, EndEvent: "bye"}}); err != nil {
		t.Fatal(err)
	}
	if err := d.AddSIPLegs(ctx, []SIPLeg{{ID: "l9", CallID: "c9", Peer: "carrier", Started: t0, Ended: t0, LossPct: ptr(2.5), JitterMS: ptr(7.0), LossOutPct: ptr(5.0)}}); err != nil {
		t.Fatal(err)
	}
	cs, _ := d.CDRs(ctx, CDRFilter{})
	for _, c := range cs {
		if c.LossPct == nil || c.JitterMS == nil || (c.ID == "c0" && *c.LossPct != 0.5) || (c.ID == "c9" && (*c.JitterMS != 7 || *c.LossPct != 5)) {
			t.Errorf("call %s: loss %v jitter %v", c.ID, FormatFloat(c.LossPct), FormatFloat(c.JitterMS))
		}
	}
	testWebRTCRecords(t, d, t0)
}

// testWebRTCRecords: WebRTC session records round-trip, select by stream
// or address, and give their calls' records the worst loss (either way)
// and jitter of all the calls' legs, written before or after the call's.
func testWebRTCRecords(t *testing.T, d *DB, t0 time.Time) {
	ctx := t.Context()
	ss := []WebRTCSession{
		{ID: "w1", CallID: "c9", Stream: "phone/alice-1", Direction: "whip", Addr: "192.0.2.7", Codec: "opus", Engine: "lite",
			Started: t0, Ended: t0.Add(time.Minute), Reason: "closed", PacketsIn: ptr[int64](3000), PacketsOut: ptr[int64](2990),
			LossInPct: ptr(0.25), LossOutPct: ptr(4.0), JitterMS: ptr(9.5), RTTMS: ptr(1.5)},
		{ID: "w2", CallID: "c5", Stream: "phone/bob-2", Direction: "whep", Addr: "192.0.2.8", Codec: "pcmu", Engine: "pion",
			Started: t0.Add(time.Second), Ended: t0.Add(time.Minute), Reason: "closed"},
	}
	if err := d.AddWebRTCSessions(ctx, ss); err != nil {
		t.Fatal(err)
	}
	if err := d.AddWebRTCSessions(ctx, ss[:1]); err != nil { // again: kept once
		t.Fatal(err)
	}
	got, err := d.WebRTCSessions(ctx, CDRFilter{User: "192.0.2.7"})
	if err != nil || len(got) != 1 {
		t.Fatalf("sessions from 192.0.2.7: %+v %v", got, err)
	}
	if g := got[0]; g.Stream != "phone/alice-1" || g.Direction != "whip" || *g.PacketsIn != 3000 || *g.LossOutPct != 4 || *g.RTTMS != 1.5 || !g.Ended.Equal(t0.Add(time.Minute)) {
		t.Errorf("session round trip %+v", g)
	}
	if got, _ := d.WebRTCSessions(ctx, CDRFilter{User: "phone/bob-2"}); len(got) != 1 || got[0].PacketsIn != nil || got[0].LossInPct != nil {
		t.Errorf("pion session %+v: figures not known are NULL", got)
	}
	// c9 (SIP leg: 2.5 % in, 5 % out as the phone reported, 7 ms) now
	// has a page whose audio lost 4 % on the way to it and arrived with
	// 9.5 ms of jitter; c5's session came before its record and has no
	// figures.
	if err := d.AddCDRs(ctx, []CDR{{ID: "c5", Caller: "bob", Callee: "carol", Started: t0, Ended: t0, EndEvent: "bye"}}); err != nil {
		t.Fatal(err)
	}
	cs, _ := d.CDRs(ctx, CDRFilter{})
	for _, c := range cs {
		switch c.ID {
		case "c9":
			if c.LossPct == nil || *c.LossPct != 5 || *c.JitterMS != 9.5 {
				t.Errorf("call c9: loss %v jitter %v, want 5 and 9.5", FormatFloat(c.LossPct), FormatFloat(c.JitterMS))
			}
		case "c5":
			if c.LossPct != nil || c.JitterMS != nil {
				t.Errorf("call c5: loss %v jitter %v, want not known", FormatFloat(c.LossPct), FormatFloat(c.JitterMS))
			}
		}
	}
}

func testContacts(t *testing.T, d *DB, url string) {
	ctx := migrated(t, d)
	if l, set, err := d.Contacts(ctx, "alice"); err != nil || set || len(l) != 0 {
		t.Fatalf("no list: %v %v %v", l, set, err)
	}
	if err := d.SetContacts(ctx, "alice", []string{"carol", "bob", "bob"}); err != nil {
		t.Fatal(err)
	}
	if err := d.SetContacts(ctx, "dave", nil); err != nil { // an empty list: nobody
		t.Fatal(err)
	}
	if l, set, _ := d.Contacts(ctx, "alice"); !set || len(l) != 2 || l[0] != "bob" || l[1] != "carol" {
		t.Errorf("alice: %v %v", l, set)
	}
	if l, set, _ := d.Contacts(ctx, "dave"); !set || len(l) != 0 {
		t.Errorf("dave's empty list: %v %v", l, set)
	}
	if err := d.SetContacts(ctx, "alice", []string{"bob"}); err != nil {
		t.Fatal(err)
	}
	all, err := d.AllContacts(ctx)
	if err != nil || len(all) != 2 || len(all["alice"]) != 1 || all["dave"] == nil {
		t.Errorf("all: %v %v", all, err)
	}
	big := make([]string, MaxContacts+1)
	for i := range big {
		big[i] = fmt.Sprintf("u%d", i)
	}
	if err := d.SetContacts(ctx, "eve", big); !errors.Is(err, ErrTooMany) {
		t.Errorf("%d contacts: %v", len(big), err)
	}
	if err := d.DeleteContacts(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, set, _ := d.Contacts(ctx, "alice"); set {
		t.Error("deleted list still set")
	}
}
