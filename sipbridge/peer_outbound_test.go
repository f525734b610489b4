package sipbridge

import (
	"context"
	"testing"
	"time"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/softphone"
)

// mic is a harmonic test signal (Nellymoser renders a pure sine too quietly).
func mic() []int16 {
	return audiotest.Square(softphone.SampleRate, softphone.SampleRate, 500, 0.3)
}

// checkHeard asserts that heard carries the 500 Hz fundamental of mic.
func checkHeard(t *testing.T, who string, heard []int16) {
	t.Helper()
	if len(heard) < 2*softphone.SampleRate {
		t.Fatalf("%s heard only %d samples", who, len(heard))
	}
	mid := heard[softphone.SampleRate/2:]
	w, o := audiotest.ToneDB(mid, softphone.SampleRate, 500), audiotest.ToneDB(mid, softphone.SampleRate, 730)
	t.Logf("%s: 500 Hz at %.1f dB, 730 Hz at %.1f dB", who, w, o)
	if w < -30 || w-o < 15 {
		t.Errorf("%s must hear 500 Hz (%.1f dB) well above 730 Hz (%.1f dB)", who, w, o)
	}
}

// TestPeerSippTrunkOutbound: a headless web phone dials +15551234567;
// sipp as the trunk answers and echoes RTP; the phone hears its own tone
// back through Nellymoser → PCMU → sipp → PCMU → Nellymoser, hangs up (BYE),
// and sipp counts one successful call.
func TestPeerSippTrunkOutbound(t *testing.T) {
	t.Parallel() // waits on real-time calls: runs beside the other such tests (sipbridge is the longest package)
	for _, c := range []codec.ID{codec.Nellymoser, codec.Speex} {
		t.Run(c.String(), func(t *testing.T) {
			uas, addr := testpeer.SippUAS(t, 30*time.Second, 1)
			e := startEnv(t, func(o *Options) { o.Trunks = []Trunk{trunk(addr)} })
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			r, err := softphone.Call(ctx, softphone.Options{Server: e.rtmpURL, User: "alice", Secret: "alice", Codec: c,
				Mic: mic(), Duration: 3 * time.Second, SetupTimeout: 10 * time.Second}, "+15551234567")
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			checkHeard(t, "alice", r.Heard)
			if err := uas.Wait(); err != nil {
				t.Fatalf("sipp uas: %v\n%s", err, uas.Output())
			}
			if n := e.bridge.Stats.RTPIn.Load(); n < 50 {
				t.Errorf("bridge received %d RTP packets", n)
			}
		})
	}
}
