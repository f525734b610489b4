package phone_test

import (
	"context"
	"testing"
	"time"

	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/phone"
	"github.com/flashvox/flashvox/phoneapp"
)

// TestPhonesRTMFPAndRTMP: alice dials over RTMFP, bob answers over RTMP;
// the same phone app serves both and each hears the other's tone.
func TestPhonesRTMFPAndRTMP(t *testing.T) {
	calls := call.NewService(call.Options{RingTimeout: 10 * time.Second}, "alice", "bob")
	t.Cleanup(calls.Close)
	st, url := rtmfpPhoneStack(t, calls)
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	ar, br := aliceCallsBob(ctx, t,
		phone.Options{Server: url, Codec: codec.Nellymoser, Mic: audiotest.Sine(phone.SampleRate, phone.SampleRate, 440, 0.5),
			Duration: 5 * time.Second},
		phone.Options{Server: st.URL(phoneapp.Name), Codec: codec.Speex, Mic: audiotest.Sine(phone.SampleRate, phone.SampleRate, 880, 0.5)})
	checkTone(t, "bob (rtmp)", br.Heard, 440, 880)
	checkTone(t, "alice (rtmfp)", ar.Heard, 880, 440)
}
