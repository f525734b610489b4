package softphone_test

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/apps/phone"
	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/teststack"
	"github.com/flashvox/flashvox/rtmfp"
	"github.com/flashvox/flashvox/session"
	"github.com/flashvox/flashvox/softphone"
)

// rtmfpPhoneStack starts the phone app on RTMP and RTMFP; it returns the
// RTMFP URL of the phone app.
func rtmfpPhoneStack(t *testing.T, calls *call.Service) (*teststack.Stack, string) {
	t.Helper()
	auth := account.NewAuth(account.AuthOptions{Users: map[string]string{"alice": "alice", "bob": "bob"}})
	st := teststack.Start(t, teststack.Options{Apps: map[string]session.App{
		phone.Name: &phone.App{Calls: calls, Auth: auth, Logger: slog.New(slog.DiscardHandler)},
	}})
	// The same applications as over RTMP.
	h := rtmfp.HandlerFunc(func(ctx context.Context, c *rtmfp.Conn) { st.Sessions.Serve(ctx, c, "transport", "rtmfp") })
	srv := &rtmfp.Server{Handler: h, Config: rtmfp.Config{Logger: st.Logger}}
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(sctx, pc) }()
	t.Cleanup(func() { stop(); <-done })
	return st, "rtmfp://" + pc.LocalAddr().String() + "/" + phone.Name
}

// p2pCall runs alice calling bob, both over RTMFP with --p2p.
func p2pCall(t *testing.T, url string, block bool) (alice, bob *softphone.Result) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return aliceCallsBob(ctx, t,
		softphone.Options{Server: url, Codec: codec.Nellymoser, P2P: true, BlockP2P: block, P2PTimeout: p2pTestTimeout(block),
			Mic: audiotest.Sine(softphone.SampleRate, softphone.SampleRate, 440, 0.5), Duration: 7 * time.Second},
		softphone.Options{Server: url, Codec: codec.Speex, P2P: true, BlockP2P: block, P2PTimeout: p2pTestTimeout(block),
			Mic: audiotest.Sine(softphone.SampleRate, softphone.SampleRate, 880, 0.5)})
}

// TestPhonesP2P: two headless phones over RTMFP with P2P call each other;
// the media goes peer to peer (the hub carries no audio at all), each
// hears the other's tone. With the direct path blocked, the call falls
// back to relay (p2pFailed) within the timeout and still carries both
// tones.
func TestPhonesP2P(t *testing.T) {
	testpeer.SkipShort(t, "seconds of real-time media and timers")
	t.Run("direct", func(t *testing.T) {
		calls := call.NewService(call.Options{RingTimeout: 10 * time.Second}, "alice", "bob")
		t.Cleanup(calls.Close)
		st, url := rtmfpPhoneStack(t, calls)
		ar, br := p2pCall(t, url, false)
		if ar.Media != softphone.MediaP2P || br.Media != softphone.MediaP2P {
			t.Errorf("media: alice %s, bob %s; want p2p", ar.Media, br.Media)
		}
		checkTone(t, "bob", br.Heard, 440, 880)
		checkTone(t, "alice", ar.Heard, 880, 440)
		if n := st.Hub.Stats.FramesIn.Load(); n != 0 {
			t.Errorf("the hub carried %d frames of a p2p call", n)
		}
		if calls.Stats().P2PCalls.Load() != 1 || calls.Stats().P2PFallbacks.Load() != 0 {
			t.Errorf("p2p calls %d, fallbacks %d", calls.Stats().P2PCalls.Load(), calls.Stats().P2PFallbacks.Load())
		}
	})
	t.Run("blocked", func(t *testing.T) {
		calls := call.NewService(call.Options{RingTimeout: 10 * time.Second}, "alice", "bob")
		t.Cleanup(calls.Close)
		st, url := rtmfpPhoneStack(t, calls)
		ar, br := p2pCall(t, url, true)
		if ar.Media != softphone.MediaRelay || br.Media != softphone.MediaRelay {
			t.Errorf("media: alice %s, bob %s; want relay", ar.Media, br.Media)
		}
		// 7 s call, ≤ 3 s waiting for the direct path: ≥ 3 s of relayed tone.
		checkTone(t, "bob", br.Heard, 440, 880)
		checkTone(t, "alice", ar.Heard, 880, 440)
		if st.Hub.Stats.FramesIn.Load() == 0 {
			t.Error("the relay carried nothing")
		}
		if calls.Stats().P2PFallbacks.Load() != 1 {
			t.Errorf("fallbacks %d, want 1", calls.Stats().P2PFallbacks.Load())
		}
	})
}

// p2pTestTimeout: a call expected to go p2p gets 10 s to see the far
// peer's audio, so that a starved CI machine under -race cannot turn it
// into a fallback (the fallbacks CI saw were the StreamNotFound race that
// playDirect now retries); a blocked one keeps the default, which the
// fallback must meet.
func p2pTestTimeout(block bool) time.Duration {
	if block {
		return 0
	}
	return 10 * time.Second
}
