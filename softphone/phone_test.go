package softphone_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/apps/phone"
	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/teststack"
	"github.com/flashvox/flashvox/session"
	"github.com/flashvox/flashvox/softphone"
)

// startServer runs RTMP, sessions, the hub and the phone app on 127.0.0.1:0
// and returns rtmp://ADDR/softphone.
func startServer(t *testing.T, ring time.Duration) string {
	t.Helper()
	calls := call.NewService(call.Options{RingTimeout: ring}, "alice", "bob", "carol")
	t.Cleanup(calls.Close)
	auth := account.NewAuth(account.AuthOptions{Users: map[string]string{"alice": "alice", "bob": "bob", "carol": "carol"}})
	st := teststack.Start(t, teststack.Options{Apps: map[string]session.App{
		phone.Name: &phone.App{Calls: calls, Auth: auth, Logger: slog.New(slog.DiscardHandler)},
	}})
	return st.URL(phone.Name)
}

// delays pairs the send time of each timestamp with its arrival time.
type delays struct {
	mu   sync.Mutex
	sent map[uint32]time.Time
	got  []time.Duration
}

func (d *delays) send(ts uint32, at time.Time) {
	d.mu.Lock()
	d.sent[ts] = at
	d.mu.Unlock()
}

func (d *delays) hear(ts uint32, at time.Time) {
	d.mu.Lock()
	if s, ok := d.sent[ts]; ok {
		d.got = append(d.got, at.Sub(s))
	}
	d.mu.Unlock()
}

func (d *delays) percentile(p float64) time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.got) == 0 {
		return -1
	}
	s := slices.Clone(d.got)
	slices.Sort(s)
	return s[int(p*float64(len(s)-1))]
}

// checkTone asserts that heard carries want clearly and not other.
func checkTone(t *testing.T, who string, heard []int16, want, other float64) {
	t.Helper()
	if len(heard) < 3*softphone.SampleRate {
		t.Fatalf("%s heard only %d samples", who, len(heard))
	}
	mid := heard[softphone.SampleRate : len(heard)-softphone.SampleRate/2]
	w, o := audiotest.ToneDB(mid, softphone.SampleRate, want), audiotest.ToneDB(mid, softphone.SampleRate, other)
	t.Logf("%s: %.0f Hz at %.1f dB, %.0f Hz at %.1f dB over %.1f s", who, want, w, other, o, float64(len(mid))/softphone.SampleRate)
	if w < -20 || w-o < 20 {
		t.Errorf("%s must hear %.0f Hz (%.1f dB) well above %.0f Hz (%.1f dB)", who, want, w, other, o)
	}
}

// TestTwoPhonesTones: alice (440 Hz) calls bob (880 Hz) for 5 s; each hears
// aliceCallsBob runs bob answering with bo and alice calling him with ao
// (User and Secret are set here), alice retrying while bob is not
// connected yet; it returns both results once both phones are done.
func aliceCallsBob(ctx context.Context, t *testing.T, ao, bo softphone.Options) (alice, bob *softphone.Result) {
	t.Helper()
	ao.User, ao.Secret, bo.User, bo.Secret = "alice", "alice", "bob", "bob"
	bobRes, bobErr := make(chan *softphone.Result, 1), make(chan error, 1)
	go func() {
		r, err := softphone.Answer(ctx, bo)
		bobRes <- r
		bobErr <- err
	}()
	var err error
	for range 50 { // bob may not be connected yet: alice's first invite is rejected offline
		alice, err = softphone.Call(ctx, ao, "bob")
		if !errors.Is(err, softphone.ErrNotEstablished) {
			break
		}
		time.Sleep(20 * time.Millisecond) // retry pacing, not an event wait
	}
	if err != nil {
		t.Fatalf("alice (%s): %v", ao.Server, err)
	}
	bob = <-bobRes
	if err := <-bobErr; err != nil {
		t.Fatalf("bob (%s): %v", bo.Server, err)
	}
	return alice, bob
}

// the other's tone, with the same codec and across Nellymoser/Speex.
func TestTwoPhonesTones(t *testing.T) {
	for _, tc := range []struct {
		name       string
		alice, bob codec.ID
	}{
		{"speex-speex", codec.Speex, codec.Speex},
		{"nellymoser-speex", codec.Nellymoser, codec.Speex},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url := startServer(t, 10*time.Second)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			ab, ba := &delays{sent: map[uint32]time.Time{}}, &delays{sent: map[uint32]time.Time{}}
			ar, br := aliceCallsBob(ctx, t,
				softphone.Options{Server: url, Codec: tc.alice, Mic: audiotest.Sine(softphone.SampleRate, softphone.SampleRate, 440, 0.5),
					Duration: 5 * time.Second, DTMF: "42", OnSend: ab.send, OnHear: ba.hear},
				softphone.Options{Server: url, Codec: tc.bob, Mic: audiotest.Sine(softphone.SampleRate, softphone.SampleRate, 880, 0.5),
					OnSend: ba.send, OnHear: ab.hear})
			if br.Digits != "42" {
				t.Errorf("bob got DTMF %q", br.Digits)
			}
			checkTone(t, "bob", br.Heard, 440, 880)
			checkTone(t, "alice", ar.Heard, 880, 440)
			t.Logf("publish→play delay alice→bob p50 %v p99 %v; bob→alice p50 %v p99 %v",
				ab.percentile(0.5), ab.percentile(0.99), ba.percentile(0.5), ba.percentile(0.99))
		})
	}
}
