package softphone_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/apps/phone"
	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/conference"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/teststack"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/session"
	"github.com/flashvox/flashvox/softphone"
)

// TestConferenceRelayLateSpeex: in a relay room alice talks Speex (a 400 Hz
// tone over a -23 dB noise floor, like a tone into a microphone) and bob
// joins 2 s later, so his decoder starts mid-stream. Bob's recording must
// hold alice's tone at her level with no more than 3 dB of anything else
// on top: the late-joiner path of the hub and the phone's decoding add no
// noise. (With a pure steady sine libspeex's own decoder does not converge
// when started mid-stream: docs/compat.md, media's TestPeerSpeexLateJoiner.)
func TestConferenceRelayLateSpeex(t *testing.T) {
	testpeer.SkipShort(t, "seconds of real-time media and timers")
	names := []string{"alice", "bob"}
	calls := call.NewService(call.Options{}, names...)
	auth := account.NewAuth(account.AuthOptions{Users: map[string]string{"alice": "alice", "bob": "bob"}})
	app := &phone.App{Calls: calls, Auth: auth, Logger: slog.New(slog.DiscardHandler)}
	st := teststack.Start(t, teststack.Options{Apps: map[string]session.App{phone.Name: app}})
	confs := conference.New(conference.Options{Hub: st.Hub, DefaultMode: conference.ModeRelay, Logger: st.Logger, Calls: calls})
	app.Conferences = confs
	t.Cleanup(func() { confs.Close(); calls.Close() })
	url := st.URL(phone.Name)

	tone := audiotest.Sine(softphone.SampleRate, softphone.SampleRate, 400, 0.2)
	hiss := audiotest.Noise(softphone.SampleRate, softphone.SampleRate, 0.01, 5)
	for i := range tone {
		tone[i] += hiss[i]
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	aliceErr := make(chan error, 1)
	go func() {
		_, err := softphone.Call(ctx, softphone.Options{Server: url, User: "alice", Secret: "alice", Codec: codec.Speex,
			Mic: tone, Duration: 8 * time.Second}, softphone.ConferencePrefix+"late")
		aliceErr <- err
	}()
	testwait.For(t, 20*time.Second, "alice publishing 2 s of audio", func() bool { return st.Hub.Stats.FramesIn.Load() >= 100 }) // 20 ms frames
	res, err := softphone.Call(ctx, softphone.Options{Server: url, User: "bob", Secret: "bob", Codec: codec.Speex,
		Duration: 4 * time.Second}, softphone.ConferencePrefix+"late")
	if err != nil {
		t.Fatalf("bob: %v", err)
	}
	if err := <-aliceErr; err != nil {
		t.Fatalf("alice: %v", err)
	}
	heard := res.Heard
	if len(heard) < 3*softphone.SampleRate {
		t.Fatalf("bob heard only %d samples", len(heard))
	}
	// The last 2 s but 0.3 s, from 1 s or more after bob's first frame.
	end := len(heard) - softphone.SampleRate*3/10
	last := heard[end-2*softphone.SampleRate : end]
	level := audiotest.ToneDB(last, softphone.SampleRate, 400)
	// A sine of peak level L dB has an RMS of L-3.01 dB; the excess of the
	// RMS over that is everything that is not the tone.
	excess := audiotest.RMSDB(last) - (level - 3.01)
	t.Logf("bob hears alice's 400 Hz at %.1f dB (sent at -14.0), other content adds %.1f dB", level, excess)
	if level < -17 || level > -11 {
		t.Errorf("alice's tone at %.1f dB in bob's recording, want -14 ± 3", level)
	}
	if excess > 3 {
		t.Errorf("bob's recording is %.1f dB louder than alice's tone alone: noise", excess)
	}
}
