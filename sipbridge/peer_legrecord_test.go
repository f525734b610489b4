package sipbridge

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/softphone"
)

// legRecords collects LegRecords.
type legRecords struct {
	mu sync.Mutex
	rs []LegRecord
}

func (l *legRecords) LegEnded(r LegRecord) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rs = append(l.rs, r)
}

func (l *legRecords) all() []LegRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]LegRecord(nil), l.rs...)
}

// TestPeerSippLegRecord: a web phone's 3 s call through the trunk (sipp,
// echoing RTP) gives one SIP leg record: out, the trunk, the caller, the
// sipp dialog's Call-ID, PCMU, about 3 s answered, RTP bytes both ways
// (at 8 kB/s: more than 10 kB each), loss and jitter measured.
func TestPeerSippLegRecord(t *testing.T) {
	testpeer.SkipShort(t, "real peer")
	uas, addr := testpeer.SippUAS(t, 30*time.Second, 1)
	recs := &legRecords{}
	tr := trunk(addr)
	tr.Codecs = []codec.ID{codec.PCMU}
	e := startEnv(t, func(o *Options) { o.Trunks, o.Records = []Trunk{tr}, recs })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := softphone.Call(ctx, softphone.Options{Server: e.rtmpURL, User: "alice", Secret: "alice", Codec: codec.Speex,
		Mic: mic(), Duration: 3 * time.Second, SetupTimeout: 10 * time.Second}, "+15551234567"); err != nil {
		t.Fatalf("call: %v", err)
	}
	if err := uas.Wait(); err != nil {
		t.Fatalf("sipp uas: %v\n%s", err, uas.Output())
	}
	testwait.For(t, 5*time.Second, "the leg's record", func() bool { return len(recs.all()) == 1 })
	r := recs.all()[0]
	t.Logf("leg: %+v (loss %.2f%%)", r, r.LossPct())
	connected := r.Ended.Sub(r.Answered)
	if r.Direction != "out" || r.Peer != tr.Name || r.Party != "alice" || r.Codec != "pcmu" || r.SIPCallID == "" || r.Call == "" ||
		connected < 2*time.Second || connected > 4*time.Second || r.Started.After(r.Answered) || r.Reason != "hangup" {
		t.Errorf("record %+v", r)
	}
	if r.BytesIn < 10_000 || r.BytesOut < 10_000 || r.PacketsIn < 50 || r.JitterMS <= 0 {
		t.Errorf("media counts: in %d B (%d packets), out %d B, jitter %.2f ms", r.BytesIn, r.PacketsIn, r.BytesOut, r.JitterMS)
	}
}
