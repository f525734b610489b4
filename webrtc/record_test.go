package webrtc_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
	fvrtc "github.com/flashvox/flashvox/webrtc"
)

// records collects the sessions' records.
type records struct {
	mu  sync.Mutex
	got []fvrtc.SessionRecord
}

func (r *records) SessionEnded(s fvrtc.SessionRecord) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, s)
}

func (r *records) all() []fvrtc.SessionRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]fvrtc.SessionRecord(nil), r.got...)
}

// TestSessionRecords: an offer nobody follows up (answered, never
// connected) leaves no record when its session times out, so a stream of
// bare offers writes no rows; a player that connected leaves one when its
// session ends, with the stream, direction, codec, times and (lite
// engine) the packets it was sent.
func TestSessionRecords(t *testing.T) {
	rec := &records{}
	e := startEdge(t, nil, fvrtc.Options{ConnectTimeout: time.Second, Records: rec})
	if res, body := post(t, e.url+"/live/a/whep", "application/sdp", "", []byte(testpeer.PionOffer(t))); res.StatusCode != http.StatusCreated {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	testwait.For(t, 5*time.Second, "the unconnected session to end", func() bool { return e.srv.Sessions() == 0 })
	if got := rec.all(); len(got) != 0 {
		t.Fatalf("an unconnected session left records: %+v", got)
	}

	pub, err := e.st.Hub.Publish("live/a")
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	p := playRTP(t, codecAPI(t, pionPCMU), e.url+"/live/a/whep")
	publishFrames(t, pub, codec.PCMU, 8000, numbered, func() bool { return len(p.got()) >= 10 })
	e.srv.Close()
	testwait.For(t, 5*time.Second, "the player's record", func() bool { return len(rec.all()) == 1 })
	r := rec.all()[0]
	t.Logf("record: %+v", r)
	if r.Stream != "live/a" || r.Publish || r.Codec != "pcmu" || r.Addr != "127.0.0.1" || r.ID == "" || r.Reason == "" || !r.Ended.After(r.Started) {
		t.Errorf("record %+v", r)
	}
	switch r.Engine {
	case fvrtc.EngineLite:
		if r.Reports == nil || r.Reports.Sent < 10 {
			t.Errorf("lite session's figures: %+v", r.Reports)
		}
	case fvrtc.EnginePion:
		if r.Reports != nil {
			t.Errorf("pion session with figures: %+v", r.Reports)
		}
	default:
		t.Errorf("engine %q", r.Engine)
	}
}
