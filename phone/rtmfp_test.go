package phone_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/audiotest"
	"github.com/flashvox/flashvox/internal/teststack"
	"github.com/flashvox/flashvox/phone"
	"github.com/flashvox/flashvox/phoneapp"
	"github.com/flashvox/flashvox/rtmfp"
	"github.com/flashvox/flashvox/session"
)

// TestPhonesRTMFPAndRTMP: alice dials over RTMFP, bob answers over RTMP;
// the same phone app serves both and each hears the other's tone.
func TestPhonesRTMFPAndRTMP(t *testing.T) {
	calls := call.NewService(call.Options{RingTimeout: 10 * time.Second}, "alice", "bob")
	t.Cleanup(calls.Close)
	auth := call.NewAuth(call.AuthOptions{Users: map[string]string{"alice": "alice", "bob": "bob"}})
	st := teststack.Start(t, teststack.Options{Apps: map[string]session.App{
		phoneapp.Name: &phoneapp.App{Calls: calls, Auth: auth, Logger: slog.New(slog.DiscardHandler)},
	}})
	h, ok := st.Server.Handler.(rtmfp.Handler)
	if !ok {
		t.Fatal("the session handler does not serve RTMFP")
	}
	srv := &rtmfp.Server{Handler: h, Config: rtmfp.Config{Logger: st.Logger}}
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(sctx, pc) }()
	t.Cleanup(func() { stop(); <-done })

	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	bobRes, bobErr := make(chan *phone.Result, 1), make(chan error, 1)
	go func() {
		r, err := phone.Answer(ctx, phone.Options{Server: st.URL(phoneapp.Name), User: "bob", Secret: "bob", Codec: codec.Speex,
			Mic: audiotest.Sine(phone.SampleRate, phone.SampleRate, 880, 0.5)})
		bobRes <- r
		bobErr <- err
	}()
	var ar *phone.Result
	for range 50 { // bob may not be connected yet
		ar, err = phone.Call(ctx, phone.Options{Server: "rtmfp://" + pc.LocalAddr().String() + "/" + phoneapp.Name, User: "alice", Secret: "alice",
			Codec: codec.Nellymoser, Mic: audiotest.Sine(phone.SampleRate, phone.SampleRate, 440, 0.5), Duration: 5 * time.Second}, "bob")
		if !errors.Is(err, phone.ErrNotEstablished) {
			break
		}
		time.Sleep(20 * time.Millisecond) // retry pacing, not an event wait
	}
	if err != nil {
		t.Fatalf("alice (rtmfp): %v", err)
	}
	br := <-bobRes
	if err := <-bobErr; err != nil {
		t.Fatalf("bob (rtmp): %v", err)
	}
	checkTone(t, "bob (rtmp)", br.Heard, 440, 880)
	checkTone(t, "alice (rtmfp)", ar.Heard, 880, 440)
	t.Logf("rtmfp: %+v", srv.Stats().Snapshot())
}
