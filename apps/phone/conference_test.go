package phone_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/apps/phone"
	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/codecs"
	"github.com/flashvox/flashvox/conference"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/teststack"
	"github.com/flashvox/flashvox/rtmp"
	"github.com/flashvox/flashvox/rtmp/message"
	"github.com/flashvox/flashvox/session"
)

// startConfStack runs the RTMP stack with the phone app and conferences.
func startConfStack(t *testing.T, mode conference.Mode) (*teststack.Stack, *conference.Service) {
	t.Helper()
	names := []string{"alice", "bob", "carol", "dave"}
	users := map[string]string{}
	for _, n := range names {
		users[n] = n
	}
	calls := call.NewService(call.Options{}, names...)
	auth := account.NewAuth(account.AuthOptions{Users: users, Secret: secret})
	app := &phone.App{Calls: calls, Auth: auth}
	st := teststack.Start(t, teststack.Options{Apps: map[string]session.App{phone.Name: app}})
	confs := conference.New(conference.Options{Hub: st.Hub, DefaultMode: mode, Logger: st.Logger, Calls: calls})
	app.Conferences, app.Logger = confs, st.Logger
	t.Cleanup(func() { confs.Close(); calls.Close() })
	return st, confs
}

// confClient is a Go RTMP phone in a room.
type confClient struct {
	t      testing.TB
	c      *rtmp.Client
	events chan *amf.Object
	audio  chan *message.Message
}

func dialConf(t testing.TB, addr, user string) *confClient {
	t.Helper()
	p := &confClient{t: t, events: make(chan *amf.Object, 256), audio: make(chan *message.Message, 4096)}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := rtmp.Dial(ctx, "rtmp://"+addr+"/phone", rtmp.ClientOptions{
		ConnectArgs: []any{user, user},
		OnCommand: func(cmd *message.Command, _ *message.Message) {
			if o, ok := cmd.Args[0].(*amf.Object); ok && len(cmd.Args) == 1 {
				o.Set("method", cmd.Name)
				select {
				case p.events <- o:
				default:
				}
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
		t.Fatal(err)
	}
	p.c = c
	t.Cleanup(func() { c.Close() })
	return p
}

func (p *confClient) call(name string, args ...any) (*amf.Object, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	res, err := p.c.Call(ctx, name, args...)
	if err != nil {
		return nil, err
	}
	o, _ := res.Args[0].(*amf.Object)
	return o, nil
}

func (p *confClient) join(room string, opts ...any) *amf.Object {
	p.t.Helper()
	o, err := p.call("joinConference", append([]any{room}, opts...)...)
	if err != nil {
		p.t.Fatal(err)
	}
	return o
}

// expect waits up to within for a pushed event named method matching ok.
func (p *confClient) expect(method string, within time.Duration, ok func(*amf.Object) bool) *amf.Object {
	p.t.Helper()
	timeout := time.After(within)
	for {
		select {
		case o := <-p.events:
			if o.GetString("method") == method && (ok == nil || ok(o)) {
				return o
			}
		case <-timeout:
			p.t.Fatalf("no %s within %v", method, within)
			return nil
		}
	}
}

// talk publishes a Speex tone on name in real time until ctx ends.
func (p *confClient) talk(ctx context.Context, name string, freq float64) error {
	sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	id, err := p.c.CreateStream(sctx)
	if err != nil {
		return err
	}
	if err := p.c.Publish(sctx, id, name, "live"); err != nil {
		return err
	}
	enc, err := codecs.NewEncoder(codec.Speex, 16000)
	if err != nil {
		return err
	}
	defer enc.(io.Closer).Close()
	hdr, _ := codec.FLVAudioHeader(codec.Speex, 16000)
	// 0.2 of full scale: two others' tones, even with one of them
	// doubled by a late frame under load, stay below the mixer's limiter
	// knee, whose curve would otherwise make intermodulation products at
	// the listener's own frequency were the tones evenly spaced.
	tone := audiotest.Sine(16000, 16000, freq, 0.2)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		k := (i * 320) % (len(tone) - 320)
		pkt, _ := enc.Encode([]byte{hdr}, tone[k:k+320])
		if err := p.c.WriteAudio(id, uint32(i*20), pkt); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// play starts playing name; hear decodes what arrives until ctx ends.
func (p *confClient) play(name string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	id, err := p.c.CreateStream(ctx)
	if err != nil {
		p.t.Fatal(err)
	}
	if err := p.c.Play(ctx, id, name); err != nil {
		p.t.Fatal(err)
	}
}

func (p *confClient) hear(ctx context.Context) []int16 {
	var out []int16
	decs := map[codec.ID]codec.Decoder{}
	for {
		select {
		case <-ctx.Done():
			return out
		case m := <-p.audio:
			id, rate, err := codec.ParseFLVAudio(m.Payload[0])
			if err != nil || rate != 16000 {
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

// Three phones in a mixed room each hear the two others' tones and not
// their own, over real RTMP connections and real codecs.
func TestConferenceMixedTones(t *testing.T) {
	testpeer.SkipShort(t, "seconds of real-time media and timers")
	st, _ := startConfStack(t, conference.ModeMixed)
	users := []string{"alice", "bob", "carol"}
	// Not on one 100 Hz grid: with 500, 1100 and 1700 Hz each listener's
	// own tone was a harmonic of the others' common 100 Hz, which Speex's
	// pitch predictor (a 10 ms lag fits both) can put there on a loaded
	// machine (carol once heard 1700 Hz at -33 dB); these share 10 Hz,
	// below any pitch, and no third-order product lands within 110 Hz.
	freqs := []float64{500, 1130, 1870}
	var phones []*confClient
	var joined []*amf.Object
	for _, u := range users {
		p := dialConf(t, st.Addr, u)
		j := p.join("tones")
		if j.GetString("mode") != "mixed" || j.GetString("play") == "" {
			t.Fatalf("%s joined %v", u, j)
		}
		phones, joined = append(phones, p), append(joined, j)
	}
	phones[0].expect("onConferenceJoined", 2*time.Second, func(o *amf.Object) bool { return o.GetString("user") == "carol" })
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	heard := make([][]int16, len(phones))
	var wg sync.WaitGroup
	for i, p := range phones {
		p.play(joined[i].GetString("play"))
		wg.Go(func() { heard[i] = p.hear(ctx) })
		wg.Go(func() {
			if err := p.talk(ctx, joined[i].GetString("publish"), freqs[i]); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for i, pcm := range heard {
		if len(pcm) < 16000 {
			t.Fatalf("%s heard %d samples", users[i], len(pcm))
		}
		pcm = pcm[len(pcm)/3:]
		own := audiotest.SpanToneDB(pcm, 16000, freqs[i])
		for k, f := range freqs {
			if k == i {
				continue
			}
			db := audiotest.SpanToneDB(pcm, 16000, f)
			t.Logf("%s hears %.0f Hz at %.1f dB, own %.0f Hz at %.1f dB", users[i], f, db, freqs[i], own)
			if db < -30 || db-own < 30 {
				t.Errorf("%s: %.0f Hz at %.1f dB, own tone at %.1f dB", users[i], f, db, own)
			}
		}
	}
}

// In a relay room each phone is told the others' streams, may play them,
// and hears each one's tone on its stream.
func TestConferenceRelay(t *testing.T) {
	st, _ := startConfStack(t, conference.ModeRelay)
	a, b := dialConf(t, st.Addr, "alice"), dialConf(t, st.Addr, "bob")
	ja := a.join("relay")
	jb := b.join("relay")
	if ja.GetString("mode") != "relay" {
		t.Fatalf("alice joined %v", ja)
	}
	e := a.expect("onConferenceJoined", 2*time.Second, nil)
	bobStream := e.GetString("play")
	mv, _ := jb.Get("members")
	members, _ := mv.([]any)
	if len(members) != 1 || bobStream == "" {
		t.Fatalf("bob joined %v; alice told %v", jb, e)
	}
	aliceStream := members[0].(*amf.Object).GetString("play")
	// Nobody may play a stream not issued to them, nor their own.
	ctx0, cancel0 := context.WithTimeout(context.Background(), 2*time.Second)
	id, _ := a.c.CreateStream(ctx0)
	if err := a.c.Play(ctx0, id, aliceStream); err == nil {
		t.Error("alice may play her own relay stream")
	}
	cancel0()
	a.play(bobStream)
	b.play(aliceStream)
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	var heardA, heardB []int16
	var wg sync.WaitGroup
	wg.Go(func() { heardA = a.hear(ctx) })
	wg.Go(func() { heardB = b.hear(ctx) })
	wg.Go(func() { _ = a.talk(ctx, ja.GetString("publish"), 700) })
	wg.Go(func() { _ = b.talk(ctx, jb.GetString("publish"), 1300) })
	wg.Wait()
	if db := audiotest.SpanToneDB(heardA, 16000, 1300); db < -30 {
		t.Errorf("alice hears bob at %.1f dB (%d samples)", db, len(heardA))
	}
	if db := audiotest.SpanToneDB(heardB, 16000, 700); db < -30 {
		t.Errorf("bob hears alice at %.1f dB (%d samples)", db, len(heardB))
	}
	if _, err := b.call("leaveConference", "relay"); err != nil {
		t.Fatal(err)
	}
	a.expect("onConferenceLeft", 2*time.Second, func(o *amf.Object) bool { return o.GetString("user") == "bob" })
}

// A member whose process dies (SIGKILL) is out of the room within 2 s.
func TestConferenceMemberKilled(t *testing.T) {
	if os.Getenv("FLASHVOX_CONF_HELPER") != "" {
		t.Skip("helper process")
	}
	st, confs := startConfStack(t, conference.ModeMixed)
	a := dialConf(t, st.Addr, "alice")
	a.join("k")
	cmd := exec.Command(os.Args[0], "-test.run=^TestConferenceHelperProcess$")
	cmd.Env = append(os.Environ(), "FLASHVOX_CONF_HELPER="+st.Addr)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "joined" {
				line <- sc.Text()
			}
		}
	}()
	select {
	case <-line:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("helper did not join")
	}
	a.expect("onConferenceJoined", 2*time.Second, func(o *amf.Object) bool { return o.GetString("user") == "bob" })
	killed := time.Now()
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	e := a.expect("onConferenceLeft", 2*time.Second, func(o *amf.Object) bool { return o.GetString("user") == "bob" })
	t.Logf("left %v after SIGKILL, reason %s", time.Since(killed).Round(time.Millisecond), e.GetString("reason"))
	if info, err := confs.Room("k"); err != nil || len(info.Members) != 1 {
		t.Errorf("room after the kill: %+v %v", info, err)
	}
}

// TestConferenceHelperProcess is bob in a separate process, for
// TestConferenceMemberKilled: it joins room k, talks, and waits to be killed.
func TestConferenceHelperProcess(t *testing.T) {
	addr := os.Getenv("FLASHVOX_CONF_HELPER")
	if addr == "" {
		t.Skip("run by TestConferenceMemberKilled")
	}
	p := dialConf(t, addr, "bob")
	j := p.join("k")
	fmt.Println("joined")
	_ = p.talk(context.Background(), j.GetString("publish"), 900)
}
