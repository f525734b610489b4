package phone_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/apps/phone"
	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/media/transcode"
	"github.com/flashvox/flashvox/rtmp"
	"github.com/flashvox/flashvox/rtmp/message"
	"github.com/flashvox/flashvox/session"
)

var secret = []byte("test-secret-0123456789")

type stack struct {
	addr  string
	calls *call.Service
	auth  *account.Auth
	hub   *media.Hub
}

// startStack runs the RTMP server with the phone app on 127.0.0.1:0.
func startStack(t *testing.T, ring time.Duration) *stack {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	hub := media.NewHub(256, log)
	calls := call.NewService(call.Options{RingTimeout: ring}, "alice", "bob", "carol")
	auth := account.NewAuth(account.AuthOptions{Users: map[string]string{"alice": "alice", "bob": "bob", "carol": "carol"}, Secret: secret})
	sessions := &session.Handler{Options: session.Options{Hub: hub, Transcoder: transcode.New(hub, log), MaxStreams: 8, Logger: log,
		Apps: map[string]session.App{phone.Name: &phone.App{Calls: calls, Auth: auth, Logger: log}}}}
	srv := &rtmp.Server{
		MaxConns: 100, MaxConnsPerIP: 100, Logger: log,
		Handler: rtmp.HandlerFunc(func(ctx context.Context, c *rtmp.Conn) { sessions.Serve(ctx, c) }),
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done; calls.Close() })
	return &stack{addr: ln.Addr().String(), calls: calls, auth: auth, hub: hub}
}

// testPhone is a Go RTMP client of the phone app recording pushed events.
type testPhone struct {
	t      *testing.T
	c      *rtmp.Client
	events chan *amf.Object
	audio  chan *message.Message
}

func dial(t *testing.T, st *stack, args ...any) (*testPhone, error) {
	t.Helper()
	p := &testPhone{t: t, events: make(chan *amf.Object, 64), audio: make(chan *message.Message, 1024)}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := rtmp.Dial(ctx, "rtmp://"+st.addr+"/phone", rtmp.ClientOptions{
		ConnectArgs: args,
		OnCommand: func(cmd *message.Command, _ *message.Message) {
			if o, ok := cmd.Args[0].(*amf.Object); ok && len(cmd.Args) == 1 {
				o.Set("method", cmd.Name)
				p.events <- o
			}
		},
		OnMessage: func(m *message.Message) {
			if m.Type == message.TypeAudio {
				select {
				case p.audio <- m:
				default:
				}
			}
		},
	})
	if err != nil {
		return nil, err
	}
	p.c = c
	t.Cleanup(func() { c.Close() })
	return p, nil
}

func mustDial(t *testing.T, st *stack, args ...any) *testPhone {
	t.Helper()
	p, err := dial(t, st, args...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// expect waits up to 2 s for the next pushed event other than onPresence.
func (p *testPhone) expect(method string) *amf.Object {
	p.t.Helper()
	timeout := time.After(2 * time.Second)
	for {
		select {
		case o := <-p.events:
			if o.GetString("method") == "onPresence" {
				continue
			}
			if got := o.GetString("method"); got != method {
				p.t.Fatalf("got %s %v, want %s", got, o, method)
			}
			return o
		case <-timeout:
			p.t.Fatalf("no %s within 2s", method)
		}
	}
}

func (p *testPhone) call(name string, args ...any) (*amf.Object, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	res, err := p.c.Call(ctx, name, args...)
	if err != nil {
		return nil, err
	}
	o, _ := res.Args[0].(*amf.Object)
	return o, nil
}

func TestConnectCredentials(t *testing.T) {
	st := startStack(t, time.Minute)
	tok := account.MintToken(secret, "alice", time.Now().Add(time.Hour))
	for _, args := range [][]any{
		{"alice", "alice"},
		{"alice", tok},
		{amf.NewObject("user", "alice", "token", tok)},
		{amf.NewObject("user", "alice", "password", "alice")},
	} {
		mustDial(t, st, args...)
	}
	for _, tc := range []struct {
		args []any
		why  string
	}{
		{nil, "connect needs arguments"},
		{[]any{"alice", "wrong"}, "wrong user or password"},
		{[]any{"alice", account.MintToken(secret, "alice", time.Now().Add(-time.Minute))}, "token expired"},
		{[]any{"bob", tok}, "token is for another user"},
		{[]any{"alice", account.MintToken([]byte("other-secret-000000"), "alice", time.Now().Add(time.Hour))}, "signature"},
		{[]any{amf.NewObject("user", "alice")}, "connect needs arguments"},
	} {
		_, err := dial(t, st, tc.args...)
		var ce *rtmp.CallError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "NetConnection.Connect.Rejected") || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("%v: want Connect.Rejected with %q, got %v", tc.args, tc.why, err)
		}
	}
}

func TestCallOverRTMP(t *testing.T) {
	st := startStack(t, time.Minute)
	alice, bob := mustDial(t, st, "alice", "alice"), mustDial(t, st, "bob", "bob")
	carol := mustDial(t, st, "carol", "carol")
	res, err := alice.call("invite", "bob")
	if err != nil {
		t.Fatal(err)
	}
	id := res.GetString("call")
	if in := bob.expect("onIncomingCall"); in.GetString("call") != id || in.GetString("from") != "alice" {
		t.Fatalf("incoming %v", in)
	}
	alice.expect("onRinging")
	if _, err := carol.call("accept", id); err == nil || !strings.Contains(err.Error(), "not a party") {
		t.Fatalf("carol accepting: %v", err)
	}
	acc, err := bob.call("accept", id)
	if err != nil {
		t.Fatal(err)
	}
	bob.expect("onAccepted")
	ea := alice.expect("onAccepted")
	if ea.GetString("publish") != acc.GetString("play") || ea.GetString("mode") != "relay" {
		t.Fatalf("alice %v bob %v", ea, acc)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	// A third user can neither play nor publish the call's streams.
	cs, _ := carol.c.CreateStream(ctx)
	var se *rtmp.StatusError
	if err := carol.c.Play(ctx, cs, ea.GetString("publish")); !errors.As(err, &se) || se.Code != "NetStream.Play.Failed" {
		t.Fatalf("carol play: %v", err)
	}
	cs2, _ := carol.c.CreateStream(ctx)
	if err := carol.c.Publish(ctx, cs2, ea.GetString("publish"), "live"); !errors.As(err, &se) || se.Code != "NetStream.Publish.BadName" {
		t.Fatalf("carol publish: %v", err)
	}
	// Bob may not publish alice's name nor play his own.
	bs0, _ := bob.c.CreateStream(ctx)
	if err := bob.c.Publish(ctx, bs0, acc.GetString("play"), "live"); !errors.As(err, &se) {
		t.Fatalf("bob publishing alice's name: %v", err)
	}

	as, _ := alice.c.CreateStream(ctx)
	if err := alice.c.Publish(ctx, as, ea.GetString("publish"), "live"); err != nil {
		t.Fatal(err)
	}
	bs, _ := bob.c.CreateStream(ctx)
	if err := bob.c.Play(ctx, bs, acc.GetString("play")); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		alice.c.WriteAudio(as, uint32(i*20), []byte{0xB2, byte(i), 1, 2, 3})
		select {
		case m := <-bob.audio:
			if m.Payload[1] != byte(i) {
				t.Fatalf("frame %d: %x", i, m.Payload)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("bob got no audio frame %d", i)
		}
	}
	if _, err := alice.call("sendDTMF", id, "5#"); err != nil {
		t.Fatal(err)
	}
	if d := bob.expect("onDTMF"); d.GetString("digits") != "5#" {
		t.Fatalf("dtmf %v", d)
	}
	if _, err := alice.call("bye", id); err != nil {
		t.Fatal(err)
	}
	if b := bob.expect("onBye"); b.GetString("reason") != "hangup" || b.GetString("by") != "alice" {
		t.Fatalf("bye %v", b)
	}
	alice.expect("onBye")
	if _, err := alice.call("nonsense"); err == nil {
		t.Fatal("unknown method must fail")
	}
}

func TestAnsweredElsewhereAndDisconnect(t *testing.T) {
	st := startStack(t, time.Minute)
	alice := mustDial(t, st, "alice", "alice")
	bob1, bob2 := mustDial(t, st, "bob", "bob"), mustDial(t, st, "bob", "bob")
	res, err := alice.call("invite", "bob")
	if err != nil {
		t.Fatal(err)
	}
	id := res.GetString("call")
	bob1.expect("onIncomingCall")
	bob2.expect("onIncomingCall")
	if _, err := bob2.call("accept", id); err != nil {
		t.Fatal(err)
	}
	if _, err := bob1.call("accept", id); err == nil || !strings.Contains(err.Error(), "answered elsewhere") {
		t.Fatalf("second accept: %v", err)
	}
	if o := bob1.expect("onCancelled"); o.GetString("reason") != "answered_elsewhere" {
		t.Fatalf("%v", o)
	}
	bob2.expect("onAccepted")
	alice.expect("onRinging")
	alice.expect("onAccepted")
	start := time.Now()
	bob2.c.Close()
	if o := alice.expect("onBye"); o.GetString("reason") != "gone" || o.GetString("by") != "bob" {
		t.Fatalf("%v", o)
	}
	t.Logf("disconnect to onBye: %v", time.Since(start))
}
