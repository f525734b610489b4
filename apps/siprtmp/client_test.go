package siprtmp_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/apps/phone"
	"github.com/flashvox/flashvox/apps/siprtmp"
	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/codecs"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/teststack"
	"github.com/flashvox/flashvox/rtmp"
	"github.com/flashvox/flashvox/rtmp/message"
	"github.com/flashvox/flashvox/session"
)

const rate = 16000

var secret = []byte("test-secret-0123456789")

type stack struct {
	addr  string
	calls *call.Service
}

// startStack runs RTMP with the sip and phone apps on 127.0.0.1:0.
func startStack(t *testing.T, ring time.Duration, domains ...string) *stack {
	t.Helper()
	return startStackWith(t, call.Options{RingTimeout: ring}, domains...)
}

// startStackWith is startStack with the call service's options (a gateway).
func startStackWith(t *testing.T, o call.Options, domains ...string) *stack {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	calls := call.NewService(o, "alice", "bob", "carol")
	t.Cleanup(calls.Close)
	auth := account.NewAuth(account.AuthOptions{Users: map[string]string{"alice": "alice", "bob": "bob", "carol": "carol"}, Secret: secret})
	st := teststack.Start(t, teststack.Options{Apps: map[string]session.App{
		phone.Name:   &phone.App{Calls: calls, Auth: auth, Logger: log},
		siprtmp.Name: &siprtmp.App{Calls: calls, Auth: auth, Domains: domains, Logger: log},
	}})
	return &stack{addr: st.Addr, calls: calls}
}

// callback is one server-to-client invoke, as a siprtmp SWF sees it.
type callback struct {
	method string
	args   []any
}

// sipClient is a Go client speaking the siprtmp API like a SWF phone.
type sipClient struct {
	t     *testing.T
	c     *rtmp.Client
	cbs   chan callback
	audio chan *message.Message
}

// dialSip connects to rtmp://ADDR/sip/AOR with siprtmp's connect arguments
// (authName, password, displayName, rate).
func dialSip(t *testing.T, st *stack, aor string, args ...any) (*sipClient, error) {
	t.Helper()
	sc := &sipClient{t: t, cbs: make(chan callback, 64), audio: make(chan *message.Message, 1024)}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := rtmp.Dial(ctx, "rtmp://"+st.addr+"/sip/"+aor, rtmp.ClientOptions{
		ConnectArgs: args,
		OnCommand: func(cmd *message.Command, _ *message.Message) {
			sc.cbs <- callback{cmd.Name, cmd.Args}
		},
		OnMessage: func(m *message.Message) {
			if m.Type == message.TypeAudio && len(m.Payload) > 1 {
				select {
				case sc.audio <- m:
				default:
				}
			}
		},
	})
	if err != nil {
		return nil, err
	}
	sc.c = c
	t.Cleanup(func() { c.Close() })
	return sc, nil
}

func mustSip(t *testing.T, st *stack, user string) *sipClient {
	t.Helper()
	sc, err := dialSip(t, st, user+"@127.0.0.1", user, user, strings.ToUpper(user[:1])+user[1:], "wideband")
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// cmd invokes a siprtmp command; every one answers _result(null).
func (sc *sipClient) cmd(name string, args ...any) {
	sc.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := sc.c.Call(ctx, name, args...); err != nil {
		sc.t.Fatalf("%s: %v", name, err)
	}
}

// expect waits up to 2 s for the next callback and checks its name and
// string arguments.
func (sc *sipClient) expect(method string, args ...any) callback {
	sc.t.Helper()
	select {
	case cb := <-sc.cbs:
		if cb.method != method {
			sc.t.Fatalf("got callback %s%v, want %s%v", cb.method, cb.args, method, args)
		}
		if args != nil && !equalArgs(cb.args, args) {
			sc.t.Fatalf("%s%v, want arguments %v", cb.method, cb.args, args)
		}
		return cb
	case <-time.After(2 * time.Second):
		sc.t.Fatalf("no %s callback within 2s", method)
	}
	return callback{}
}

func equalArgs(got, want []any) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

// quiet checks that no callback arrives for a short while.
func (sc *sipClient) quiet(d time.Duration) {
	sc.t.Helper()
	select {
	case cb := <-sc.cbs:
		sc.t.Fatalf("unexpected callback %s%v", cb.method, cb.args)
	case <-time.After(d):
	}
}

// media publishes "local" and plays "remote" as a siprtmp SWF does.
func (sc *sipClient) media(ctx context.Context) (pub uint32) {
	sc.t.Helper()
	pub, err := sc.c.CreateStream(ctx)
	if err != nil {
		sc.t.Fatal(err)
	}
	if err := sc.c.Publish(ctx, pub, "local", "live"); err != nil {
		sc.t.Fatalf("publish local: %v", err)
	}
	play, err := sc.c.CreateStream(ctx)
	if err != nil {
		sc.t.Fatal(err)
	}
	if err := sc.c.Play(ctx, play, "remote"); err != nil {
		sc.t.Fatalf("play remote: %v", err)
	}
	return pub
}

// talk sends a tone of freq Hz as Speex in real time on stream pub and
// decodes what it hears, until ctx ends.
func (sc *sipClient) talk(ctx context.Context, pub uint32, freq float64) []int16 {
	var wg sync.WaitGroup
	wg.Go(func() { sendTone(ctx, sc.c, pub, freq) })
	heard := hear(ctx, sc.audio)
	wg.Wait()
	return heard
}

func sendTone(ctx context.Context, c *rtmp.Client, stream uint32, freq float64) {
	enc, err := codecs.NewEncoder(codec.Speex, rate)
	if err != nil {
		panic(err)
	}
	if cl, ok := enc.(io.Closer); ok {
		defer cl.Close()
	}
	hdr, _ := codec.FLVAudioHeader(codec.Speex, rate)
	n := enc.FrameSamples()
	tone := audiotest.Sine(rate, rate, freq, 0.5)
	period := time.Duration(n) * time.Second / rate
	start := time.Now()
	for i := 0; ; i++ {
		frame := make([]int16, n)
		for j := range frame {
			frame[j] = tone[(i*n+j)%len(tone)]
		}
		pkt, err := enc.Encode([]byte{hdr}, frame)
		if err != nil {
			return
		}
		if c.WriteAudio(stream, uint32(time.Duration(i)*period/time.Millisecond), pkt) != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(start.Add(time.Duration(i+1) * period))):
		}
	}
}

func hear(ctx context.Context, audio <-chan *message.Message) []int16 {
	var out []int16
	decs := map[codec.ID]codec.Decoder{}
	for {
		select {
		case <-ctx.Done():
			for _, d := range decs {
				if cl, ok := d.(io.Closer); ok {
					cl.Close()
				}
			}
			return out
		case m := <-audio:
			id, _, err := codec.ParseFLVAudio(m.Payload[0])
			if err != nil {
				continue
			}
			d := decs[id]
			if d == nil {
				if d, err = codecs.NewDecoder(id, rate); err != nil {
					continue
				}
				decs[id] = d
			}
			out, _ = d.Decode(out, m.Payload[1:])
		}
	}
}

// checkTone asserts that heard carries want clearly and not other.
func checkTone(t *testing.T, who string, heard []int16, want, other float64) {
	t.Helper()
	if len(heard) < 2*rate {
		t.Fatalf("%s heard only %d samples", who, len(heard))
	}
	mid := heard[rate/2 : len(heard)-rate/4]
	w, o := audiotest.ToneDB(mid, rate, want), audiotest.ToneDB(mid, rate, other)
	t.Logf("%s: %.0f Hz at %.1f dB, %.0f Hz at %.1f dB over %.1f s", who, want, w, other, o, float64(len(mid))/rate)
	if w < -20 || w-o < 20 {
		t.Errorf("%s must hear %.0f Hz (%.1f dB) well above %.0f Hz (%.1f dB)", who, want, w, other, o)
	}
}
