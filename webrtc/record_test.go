package webrtc_test

import (
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtcp"
	pionwebrtc "github.com/pion/webrtc/v4"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/media"
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
// session ends, with the stream, direction, codec, times and the figures
// both ways: the packets it was sent, what its receiver report said
// (loss, jitter); a publisher's, the packets it sent and none lost. On
// both engines (the lite plane's counts and the pion engine's own).
func TestSessionRecords(t *testing.T) {
	testpeer.SkipShort(t, "seconds of real-time media and timers")
	for _, engine := range []string{fvrtc.EngineLite, fvrtc.EnginePion} {
		t.Run(engine, func(t *testing.T) { testSessionRecords(t, engine) })
	}
}

func testSessionRecords(t *testing.T, engine string) {
	rec := &records{}
	e := startEdge(t, nil, fvrtc.Options{Engine: engine, ConnectTimeout: time.Second, Records: rec})
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
	pc, err := codecAPI(t, pionPCMU).NewPeerConnection(pionwebrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	p, _ := recvRTP(t, pc)
	negotiate(t, pc, e.url+"/live/a/whep")
	publishFrames(t, pub, codec.PCMU, 8000, numbered, func() bool { return len(p.got()) >= 10 })
	// The player's receiver report: 3 lost, a quarter of the last
	// interval, jitter 80 units of the 8 kHz clock (10 ms).
	block := rtcp.ReceptionReport{SSRC: p.got()[0].SSRC, FractionLost: 64, TotalLost: 3, Jitter: 80}
	if err := pc.WriteRTCP([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 1234, Reports: []rtcp.ReceptionReport{block}}}); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 5*time.Second, "the server to take the report", func() bool { return e.srv.Stats.PeerReports.Load() >= 1 })

	track := whipTrack(t, codecAPI(t, pionPCMU), e.url+"/live/b/whip", pionPCMU.cap)
	var n atomic.Int64
	sub := e.st.Hub.Subscribe("live/b", media.ReceiverFunc(func(f *media.Frame) {
		if f.Kind == media.KindAudio {
			n.Add(1)
		}
	}))
	defer sub.Close()
	publishSamples(t, track, func(int) []byte { return make([]byte, 160) }, func() bool { return n.Load() >= 10 })
	e.srv.Close()
	testwait.For(t, 5*time.Second, "both records", func() bool { return len(rec.all()) == 2 })
	for _, r := range rec.all() {
		t.Logf("record: %+v, figures %+v", r, r.Reports)
		if r.Engine != engine || r.Codec != "pcmu" || r.Addr != "127.0.0.1" || r.ID == "" || r.Reason == "" || !r.Ended.After(r.Started) || r.Reports == nil {
			t.Errorf("record %+v", r)
			continue
		}
		f := r.Reports
		switch r.Stream {
		case "live/a": // the player
			if r.Publish || f.Sent < 10 || f.SentOctets < 10*160 || f.PeerReports != 1 || f.PeerLost != 3 || f.PeerFraction != 64 || f.PeerJitter != 10*time.Millisecond {
				t.Errorf("player's record %+v: figures %+v", r, f)
			}
		case "live/b": // the publisher
			if !r.Publish || f.Received < 10 || f.Lost != 0 || f.Sent != 0 {
				t.Errorf("publisher's record %+v: figures %+v", r, f)
			}
		default:
			t.Errorf("record of %q", r.Stream)
		}
	}
}
