package call

import (
	"strings"
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

// TestRecordTransports: a party's transport in its record is what carried
// its media: a page's WHIP/WHEP (MediaVia) or a direct page pair is
// webrtc; an RTMPT phone is rtmpt; MediaVia of a name the user was not
// issued (another call's, the other party's to publish) changes nothing.
func TestRecordTransports(t *testing.T) {
	for _, tc := range []struct {
		name             string
		kindA, kindB     string
		peerA, peerB     string
		via              func(s *Service, e Event, other Event)
		wantFrom, wantTo string
	}{
		{"rtmpt phone to page over whip", KindRTMPT, KindHTTP, "", PeerWebRTC, func(s *Service, ea, eb Event) {
			s.MediaVia("bob", eb.Publish, true, TransportWebRTC)
		}, KindRTMPT, TransportWebRTC},
		{"page plays only", KindRTMP, KindHTTP, "", PeerWebRTC, func(s *Service, ea, eb Event) {
			s.MediaVia("bob", eb.Play, false, TransportWebRTC)
		}, KindRTMP, TransportWebRTC},
		{"page signalled, no media", KindRTMP, KindHTTP, "", PeerWebRTC, nil, KindRTMP, KindHTTP},
		{"spoof: bob names alice's stream", KindRTMP, KindHTTP, "", "", func(s *Service, ea, eb Event) {
			s.MediaVia("bob", ea.Publish, true, TransportWebRTC)
			s.MediaVia("bob", eb.Publish, false, TransportWebRTC)
			s.MediaVia("mallory", eb.Publish, true, TransportWebRTC)
		}, KindRTMP, KindHTTP},
		{"two pages p2p", KindHTTP, KindHTTP, PeerWebRTC, PeerWebRTC, nil, TransportWebRTC, TransportWebRTC},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var recs records
			s := NewService(Options{Records: &recs}, "alice", "bob")
			a, b := s.Attach("alice", tc.kindA), s.Attach("bob", tc.kindB)
			id, err := s.Invite(a, "bob", tc.peerA)
			if err != nil {
				t.Fatal(err)
			}
			eb, err := s.Accept(b, id, tc.peerB)
			if err != nil {
				t.Fatal(err)
			}
			ea := Event{Publish: eb.Play, Play: eb.Publish}
			if tc.via != nil {
				tc.via(s, ea, eb)
			}
			if err := s.Hangup(a, id); err != nil {
				t.Fatal(err)
			}
			if len(recs) != 1 || recs[0].FromKind != tc.wantFrom || recs[0].ToKind != tc.wantTo {
				t.Fatalf("records %+v, want %s → %s", recs, tc.wantFrom, tc.wantTo)
			}
		})
	}
}

// TestP2PCodec: a page of a direct page-to-page call may name the codec
// its SDP answer chose; the record names it for both parties while the
// call stays p2p. A relayed call, a stranger and a bad name are refused;
// after a fallback to relay the record leaves it to the meter.
func TestP2PCodec(t *testing.T) {
	for _, fallBack := range []bool{false, true} {
		var recs records
		s := NewService(Options{Records: &recs}, "alice", "bob", "carol")
		a, b, c := s.Attach("alice", KindHTTP), s.Attach("bob", KindHTTP), s.Attach("carol", KindHTTP)
		id, _ := s.Invite(a, "bob", PeerWebRTC)
		if _, err := s.Accept(b, id, PeerWebRTC); err != nil {
			t.Fatal(err)
		}
		for _, bad := range []struct {
			d     *Device
			codec string
		}{{c, "opus"}, {b, ""}, {b, "OPUS"}, {b, "opus/48000"}, {b, strings.Repeat("a", 17)}} {
			if err := s.SetP2PCodec(bad.d, id, bad.codec); err == nil {
				t.Errorf("%s set codec %q", bad.d.User, bad.codec)
			}
		}
		if err := s.SetP2PCodec(b, id, "opus"); err != nil {
			t.Fatal(err)
		}
		if fallBack {
			if err := s.P2PFailed(a, id); err != nil {
				t.Fatal(err)
			}
			if err := s.SetP2PCodec(b, id, "pcmu"); err == nil {
				t.Error("codec set on a relayed call")
			}
		}
		s.Hangup(a, id)
		want := map[bool]string{false: "opus", true: ""}[fallBack]
		if len(recs) != 1 || recs[0].P2PCodec != want {
			t.Errorf("fell back %v: records %+v, want codec %q", fallBack, recs, want)
		}
	}
}
