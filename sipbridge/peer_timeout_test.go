package sipbridge

import (
	"context"
	"testing"
	"time"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/softphone"
)

// TestPeerSippKilledRTPTimeout: the trunk (sipp) is killed mid-call; no
// BYE comes, the RTP stops, and the web side gets onBye with reason
// rtp_timeout within the (short) RTP timeout.
func TestPeerSippKilledRTPTimeout(t *testing.T) {
	const timeout = 2 * time.Second
	uas, addr := testpeer.SippUAS(t, 30*time.Second, 1)
	e := startEnv(t, func(o *Options) { o.Trunks = []Trunk{trunk(addr)}; o.RTPTimeout = timeout })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	type result struct {
		r   *softphone.Result
		err error
		at  time.Time
	}
	res := make(chan result, 1)
	go func() {
		r, err := softphone.Call(ctx, softphone.Options{Server: e.rtmpURL, User: "alice", Secret: "alice", Codec: codec.Nellymoser,
			Mic: mic(), SetupTimeout: 10 * time.Second}, "+15551234567")
		res <- result{r, err, time.Now()}
	}()
	for e.bridge.Stats.RTPIn.Load() < 25 { // half a second of echoed audio
		select {
		case r := <-res:
			t.Fatalf("call ended early: %v", r.err)
		case <-ctx.Done():
			t.Fatal("no RTP came back from sipp")
		case <-time.After(10 * time.Millisecond):
		}
	}
	uas.Kill()
	killed := time.Now()
	r := <-res
	took := r.at.Sub(killed)
	t.Logf("web side ended %v after the kill: %v", took, r.err)
	if r.r == nil || r.r.End == nil || r.r.End.GetString("reason") != "rtp_timeout" {
		t.Fatalf("end = %v, err %v", r.r, r.err)
	}
	if took > timeout+2*time.Second {
		t.Errorf("hang-up took %v, RTP timeout is %v", took, timeout)
	}
}
