package softphone_test

import (
	"context"
	"testing"
	"time"

	"github.com/flashvox/flashvox/apps/phone"
	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/softphone"
)

// TestPhonesRTMFPAndRTMP: alice dials over RTMFP, bob answers over RTMP;
// the same phone app serves both and each hears the other's tone.
func TestPhonesRTMFPAndRTMP(t *testing.T) {
	testpeer.SkipShort(t, "seconds of real-time media and timers")
	calls := call.NewService(call.Options{RingTimeout: 10 * time.Second}, "alice", "bob")
	t.Cleanup(calls.Close)
	st, url := rtmfpPhoneStack(t, calls)
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	ar, br := aliceCallsBob(ctx, t,
		softphone.Options{Server: url, Codec: codec.Nellymoser, Mic: audiotest.Sine(softphone.SampleRate, softphone.SampleRate, 440, 0.5),
			Duration: 5 * time.Second},
		softphone.Options{Server: st.URL(phone.Name), Codec: codec.Speex, Mic: audiotest.Sine(softphone.SampleRate, softphone.SampleRate, 880, 0.5)})
	checkTone(t, "bob (rtmp)", br.Heard, 440, 880)
	checkTone(t, "alice (rtmfp)", ar.Heard, 880, 440)
}
