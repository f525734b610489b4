package siprtmp_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/rtmp"
	"github.com/flashvox/flashvox/rtmp/message"
	"github.com/flashvox/flashvox/softphone"
)

// TestSipCallTonesBothWays: two siprtmp clients place, answer and end a
// call; alice sends 440 Hz, bob 880 Hz, each hears the other.
func TestSipCallTonesBothWays(t *testing.T) {
	t.Parallel()
	st := startStack(t, time.Minute)
	alice, bob := mustSip(t, st, "alice"), mustSip(t, st, "bob")
	alice.cmd("invite", `"Bob" <sip:bob@127.0.0.1>`)
	bob.expect("invited", "sip:alice@127.0.0.1", "sip:bob@127.0.0.1")
	alice.expect("ringing", "180 Ringing")
	bob.cmd("accept")
	if cb := alice.expect("accepted"); len(cb.args) != 0 {
		t.Fatalf("accepted without a codec list must carry no arguments: %v", cb.args)
	}
	if cb := bob.expect("accepted"); len(cb.args) != 0 {
		t.Fatalf("bob accepted %v", cb.args)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3500*time.Millisecond)
	defer cancel()
	ap, bp := alice.media(ctx), bob.media(ctx)
	var wg sync.WaitGroup
	var heardA, heardB []int16
	wg.Go(func() { heardA = alice.talk(ctx, ap, 440) })
	wg.Go(func() { heardB = bob.talk(ctx, bp, 880) })
	wg.Wait()
	checkTone(t, "bob", heardB, 440, 880)
	checkTone(t, "alice", heardA, 880, 440)

	alice.cmd("bye")
	bob.expect("byed")
	alice.quiet(200 * time.Millisecond) // no callback for one's own bye
}

// TestSipCallsPhoneUser: a siprtmp client calls a phone app user (the
// headless phone, Nellymoser) with tones both ways and DTMF; then a phone
// user calls the siprtmp client.
func TestSipCallsPhoneUser(t *testing.T) {
	t.Parallel()
	st := startStack(t, time.Minute)
	alice := mustSip(t, st, "alice")
	phoneURL := "rtmp://" + st.addr + "/phone"
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	type answered struct {
		r   *softphone.Result
		err error
	}
	bobDone := make(chan answered, 1)
	go func() {
		r, err := softphone.Answer(ctx, softphone.Options{Server: phoneURL, User: "bob", Secret: "bob", Codec: codec.Nellymoser,
			Mic: audiotest.Sine(softphone.SampleRate, softphone.SampleRate, 880, 0.5), SetupTimeout: 5 * time.Second})
		bobDone <- answered{r, err}
	}()
	waitOnline(t, st, "bob")
	alice.cmd("invite", "sip:bob@127.0.0.1")
	alice.expect("ringing")
	alice.expect("accepted")
	mctx, mcancel := context.WithTimeout(ctx, 3500*time.Millisecond)
	defer mcancel()
	pub := alice.media(mctx)
	alice.cmd("sendDTMF", "5")
	heard := alice.talk(mctx, pub, 440)
	alice.cmd("bye")
	b := <-bobDone
	if b.err != nil {
		t.Fatalf("bob: %v", b.err)
	}
	if b.r.Digits != "5" {
		t.Errorf("bob got DTMF %q, want 5", b.r.Digits)
	}
	checkTone(t, "alice (siprtmp, hears Nellymoser)", heard, 880, 440)
	checkTone(t, "bob (phone, hears Speex as Nellymoser)", b.r.Heard, 440, 880)

	// The other way: phone user carol calls the siprtmp client by name.
	carolDone := make(chan error, 1)
	go func() {
		_, err := softphone.Call(ctx, softphone.Options{Server: phoneURL, User: "carol", Secret: "carol", Duration: 300 * time.Millisecond}, "alice")
		carolDone <- err
	}()
	alice.expect("invited", "sip:carol@127.0.0.1", "sip:alice@127.0.0.1")
	alice.cmd("accept", "wideband", "dtmf")
	if cb := alice.expect("accepted"); !equalArgs(cb.args, []any{"speex", nil}) {
		t.Errorf("accepted %v, want (speex, null)", cb.args)
	}
	alice.expect("byed")
	if err := <-carolDone; err != nil {
		t.Fatalf("carol: %v", err)
	}
}

// waitOnline waits until user has a connected device.
func waitOnline(t *testing.T, st *stack, user string) {
	t.Helper()
	testwait.For(t, 10*time.Second, user+" online", func() bool { return st.calls.Presence()[user] == call.Online })
}

// TestSipRefusalsAndEnds covers the callbacks of every way a call does not
// happen or ends, as siprtmp reports them.
func TestSipRefusalsAndEnds(t *testing.T) {
	t.Parallel()
	st := startStack(t, 400*time.Millisecond)
	alice := mustSip(t, st, "alice")

	alice.cmd("invite", "bob") // offline
	alice.expect("rejected", "480 Temporarily Unavailable")
	alice.cmd("invite", "sip:alice@127.0.0.1")
	alice.expect("rejected", "486 Busy Here")
	alice.cmd("invite", "<sip:")
	if cb := alice.expect("rejected"); !strings.HasPrefix(cb.args[0].(string), "400 ") {
		t.Fatalf("bad address: %v", cb.args)
	}
	alice.cmd("accept") // nothing rings: ignored
	alice.cmd("bye")
	alice.quiet(100 * time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s, _ := alice.c.CreateStream(ctx)
	var se *rtmp.StatusError
	if err := alice.c.Publish(ctx, s, "local", "live"); !errors.As(err, &se) || se.Code != "NetStream.Publish.BadName" {
		t.Fatalf("publish local without a call: %v", err)
	}

	bob := mustSip(t, st, "bob")
	for _, tc := range []struct {
		reject []any
		want   string
	}{
		{[]any{"486 Busy Here"}, "486 Busy Here"},
		{nil, "603 Decline"},
	} {
		alice.cmd("invite", "bob@127.0.0.1")
		bob.expect("invited")
		alice.expect("ringing")
		alice.cmd("invite", "carol") // the line is busy
		alice.expect("rejected", "Already in an active or pending call")
		bob.cmd("reject", tc.reject...)
		alice.expect("rejected", tc.want)
		bob.quiet(50 * time.Millisecond)
	}

	// The caller cancels: the callee gets cancelled(from, to).
	alice.cmd("invite", "bob")
	bob.expect("invited")
	alice.expect("ringing")
	alice.cmd("bye")
	bob.expect("cancelled", "sip:alice@127.0.0.1", "sip:bob@127.0.0.1")
	alice.quiet(50 * time.Millisecond)

	// Nobody answers within the ring timeout.
	alice.cmd("invite", "bob", "pcmu", "flv")
	bob.expect("invited")
	alice.expect("ringing")
	alice.expect("rejected", "408 Request Timeout")
	bob.expect("cancelled")

	// Another device of bob (the phone app) answers: the sip line is told cancelled.
	incoming := make(chan string, 4)
	bobPhone, err := rtmp.Dial(ctx, "rtmp://"+st.addr+"/phone", rtmp.ClientOptions{ConnectArgs: []any{"bob", "bob"},
		OnCommand: func(cmd *message.Command, _ *message.Message) {
			if o, ok := cmd.Args[0].(*amf.Object); ok && cmd.Name == "onIncomingCall" {
				incoming <- o.GetString("call")
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer bobPhone.Close()
	alice.cmd("invite", "bob", "pcmu", "flv")
	bob.expect("invited")
	alice.expect("ringing")
	id := <-incoming
	if _, err := bobPhone.Call(ctx, "accept", id); err != nil {
		t.Fatal(err)
	}
	bob.expect("cancelled")
	if cb := alice.expect("accepted"); !equalArgs(cb.args, []any{"pcmu", "default"}) {
		t.Fatalf("accepted %v, want (pcmu, default)", cb.args)
	}
	// The phone hangs up; the sip line that carries the call gets byed.
	if _, err := bobPhone.Call(ctx, "bye", id); err != nil {
		t.Fatal(err)
	}
	alice.expect("byed")
	bob.quiet(50 * time.Millisecond)
}
