package call

import (
	"testing"
	"time"
)

type records []Record

func (r *records) CallEnded(rec Record) { *r = append(*r, rec) }

// TestRecords: every call that ends gives one record, with its start,
// answer, end, transports, mode and how it ended; refused calls (offline)
// give none.
func TestRecords(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	var recs records
	s := NewService(Options{Records: &recs, Now: func() time.Time { return now }}, "alice", "bob", "carol")
	a, b := s.Attach("alice", KindRTMP), s.Attach("bob", KindHTTP)
	id, err := s.Invite(a, "bob", "")
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Second)
	if _, err := s.Accept(b, id, ""); err != nil {
		t.Fatal(err)
	}
	now = now.Add(10 * time.Second)
	if err := s.Hangup(b, id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Invite(a, "carol", ""); err != nil { // offline: refused at once
		t.Fatal(err)
	}
	id2, _ := s.Invite(b, "alice", "")
	now = now.Add(time.Second)
	s.Close() // shutdown ends the ringing call
	if len(recs) != 2 {
		t.Fatalf("records %+v", recs)
	}
	r := recs[0]
	start := time.Unix(1_700_000_000, 0)
	if r.Call != id || r.From != "alice" || r.To != "bob" || r.FromKind != KindRTMP || r.ToKind != KindHTTP || r.Mode != ModeRelay ||
		!r.Started.Equal(start) || !r.Answered.Equal(start.Add(2*time.Second)) || !r.Ended.Equal(start.Add(12*time.Second)) ||
		r.Event != EvBye || r.Reason != ReasonHangup || r.By != "bob" {
		t.Errorf("answered call: %+v", r)
	}
	r = recs[1]
	if r.Call != id2 || r.From != "bob" || !r.Answered.IsZero() || r.ToKind != "" || r.Mode != "" || r.Event == EvBye || r.Reason != "shutdown" {
		t.Errorf("ringing call ended by shutdown: %+v", r)
	}
}
