package call

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestEndByOperator: the operator's list shows a ringing and then an
// active call with its stream keys; ending it tells both parties with
// reason admin and the operator's name (cancelled while ringing, bye once
// answered); an ended call is ErrNoCall.
func TestEndByOperator(t *testing.T) {
	for _, answered := range []bool{false, true} {
		s := newTestService(time.Minute)
		a, b := s.Attach("alice", KindRTMP), s.Attach("bob", KindHTTP)
		ra, rb := newReader(t, s, "alice"), newReader(t, s, "bob")
		id, err := s.Invite(a, "bob", "")
		if err != nil {
			t.Fatal(err)
		}
		ra.expect(EvRinging, "")
		rb.expect(EvIncoming, "")
		want, state := EvCanceled, "ringing"
		if answered {
			if _, err := s.Accept(b, id, ""); err != nil {
				t.Fatal(err)
			}
			ra.expect(EvAccepted, "")
			rb.expect(EvAccepted, "")
			want, state = EvBye, "active"
		}
		cs := s.Calls()
		if len(cs) != 1 || cs[0].ID != id || cs[0].State != state || cs[0].FromKind != KindRTMP || cs[0].Started.IsZero() {
			t.Fatalf("calls: %+v", cs)
		}
		if answered != strings.HasPrefix(cs[0].Streams[0], "phone/") || cs[0].ToKind != map[bool]string{true: KindHTTP}[answered] {
			t.Fatalf("answered %v: streams %q, callee kind %q", answered, cs[0].Streams, cs[0].ToKind)
		}
		if err := s.EndByOperator(id, "root"); err != nil {
			t.Fatal(err)
		}
		for _, r := range []*reader{ra, rb} {
			if e := r.expect(want, ReasonAdmin); e.By != "root" {
				t.Errorf("by %q", e.By)
			}
		}
		if err := s.EndByOperator(id, "root"); !errors.Is(err, ErrNoCall) || len(s.Calls()) != 0 {
			t.Fatalf("second end: %v, calls %d", err, len(s.Calls()))
		}
		s.Close()
	}
}
