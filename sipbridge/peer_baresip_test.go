package sipbridge

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/softphone"
)

// Tones of the two sides: bob (web) sends mic()'s 500 Hz, carol's
// baresip sends 700 Hz; each must hear the other's, not its own.
const (
	bobHz   = 500
	carolHz = 700
)

// carolMic writes carol's microphone: 12 s of a 700 Hz square at 8 kHz.
func carolMic(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "carol.wav")
	if err := audiotest.WriteWAV(p, audiotest.Square(8000, 12*8000, carolHz, 0.3), 8000); err != nil {
		t.Fatal(err)
	}
	return p
}

// after drops the first n samples of pcm (start-up), if it has more.
func after(pcm []int16, n int) []int16 {
	if len(pcm) > n {
		return pcm[n:]
	}
	return pcm
}

// checkTone asserts that pcm carries want Hz well above other Hz.
func checkTone(t *testing.T, who string, pcm []int16, rate int, want, other float64) {
	t.Helper()
	if len(pcm) < rate {
		t.Errorf("%s heard only %d samples", who, len(pcm))
		return
	}
	w, o := audiotest.ToneDB(pcm, rate, want), audiotest.ToneDB(pcm, rate, other)
	t.Logf("%s heard %.1f s: %.0f Hz at %.1f dB, %.0f Hz at %.1f dB", who, float64(len(pcm))/float64(rate), want, w, other, o)
	if w < -35 || w-o < 15 {
		t.Errorf("%s must hear %.0f Hz (%.1f dB) well above %.0f Hz (%.1f dB)", who, want, w, other, o)
	}
}

// checkBaresipHeard reads what baresip recorded and checks bob's tone.
func checkBaresipHeard(t *testing.T, b *testpeer.Baresip) {
	t.Helper()
	p := b.Heard()
	if p == "" {
		t.Fatalf("baresip recorded nothing\n%s", b.Output())
	}
	pcm, rate, err := audiotest.ReadWAV(p)
	if err != nil {
		t.Fatal(err)
	}
	pcm = after(pcm, rate/2) // codec and jitter start-up
	checkTone(t, "carol (baresip)", pcm, rate, bobHz, carolHz)
}

// bobCallsBaresip: web user bob (codec c) calls callee, a number that
// reaches carol's baresip b, for 4 s; then each side must have heard the
// other's tone.
func bobCallsBaresip(t *testing.T, rtmpURL string, c codec.ID, setup time.Duration, callee string, b *testpeer.Baresip) {
	t.Helper()
	bobCallsBaresipFor(t, rtmpURL, c, setup, 4*time.Second, callee, b)
}

// bobCallsBaresipFor is bobCallsBaresip with a call of d.
func bobCallsBaresipFor(t *testing.T, rtmpURL string, c codec.ID, setup, d time.Duration, callee string, b *testpeer.Baresip) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := softphone.Call(ctx, softphone.Options{Server: rtmpURL, User: "bob", Secret: "bob", Codec: c,
		Mic: mic(), Duration: d, SetupTimeout: setup}, callee)
	if err != nil {
		t.Fatalf("bob: %v\nbaresip: %s", err, b.Output())
	}
	checkBothHeard(t, r.Heard, b)
}

// checkBothHeard checks that bob heard carol's tone in heard and, once
// baresip has stopped, that baresip's recording holds bob's.
func checkBothHeard(t *testing.T, heard []int16, b *testpeer.Baresip) {
	t.Helper()
	checkTone(t, "bob", after(heard, softphone.SampleRate/2), softphone.SampleRate, carolHz, bobHz)
	testwait.For(t, 5*time.Second, "baresip's recording", func() bool { return b.Heard() != "" })
	b.Stop()
	checkBaresipHeard(t, b)
}

// baresipAccount is carol's account line for a bridge at addr.
func baresipAccount(addr, extra string) string {
	return "<sip:carol@" + addr + ">;auth_pass=carol;audio_codecs=PCMU" + extra
}

// TestPeerBaresipCallsWebUser: baresip, authenticated as carol (407
// digest), calls web user bob by name; bob's headless phone answers;
// bob hears carol's 700 Hz and baresip records bob's 500 Hz; bob hangs
// up (BYE to baresip). Bob uses Nellymoser, then Speex.
func TestPeerBaresipCallsWebUser(t *testing.T) {
	for _, c := range []codec.ID{codec.Nellymoser, codec.Speex} {
		t.Run(c.String(), func(t *testing.T) {
			e := startEnv(t, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			type answer struct {
				r   *softphone.Result
				err error
			}
			res := make(chan answer, 1)
			go func() {
				r, err := softphone.Answer(ctx, softphone.Options{Server: e.rtmpURL, User: "bob", Secret: "bob", Codec: c,
					Mic: mic(), Duration: 4 * time.Second, SetupTimeout: 20 * time.Second})
				res <- answer{r, err}
			}()
			testwait.For(t, 10*time.Second, "bob online", func() bool { return e.calls.Presence()["bob"] == "online" })
			b := testpeer.StartBaresip(t, 30*time.Second, testpeer.BaresipOptions{
				Account: baresipAccount(e.bridge.Addr(), ";regint=0"), SourceWAV: carolMic(t),
				Exec: "/dial sip:bob@" + e.bridge.Addr(), Seconds: 20,
			})
			a := <-res
			if a.err != nil {
				t.Fatalf("bob: %v\nbaresip: %s", a.err, b.Output())
			}
			checkBothHeard(t, a.r.Heard, b)
		})
	}
}

// TestPeerBaresipWebUserCalls: baresip registers as carol (401 digest)
// and answers automatically; web user bob calls carol by name, which
// rings the registered phone; both hear each other's tone; bob hangs up.
// The leg's record has baresip's RTCP reports about bob's audio (the
// Speex call outlasts the first, about 5 s in): nothing lost on loopback
// (the first report answers no sender report of ours yet, so no round
// trip: TestPeerReports checks its arithmetic).
func TestPeerBaresipWebUserCalls(t *testing.T) {
	for _, c := range []struct {
		id      codec.ID
		d       time.Duration
		reports bool
	}{{codec.Nellymoser, 4 * time.Second, false}, {codec.Speex, 8 * time.Second, true}} {
		t.Run(c.id.String(), func(t *testing.T) {
			recs := &legRecords{}
			e := startEnv(t, func(o *Options) { o.Records = recs })
			b := testpeer.StartBaresip(t, 30*time.Second, testpeer.BaresipOptions{
				Account:   baresipAccount(e.bridge.Addr(), ";answermode=auto"),
				SourceWAV: carolMic(t), Seconds: 20,
			})
			testwait.For(t, 20*time.Second, "carol's registration", func() bool { return len(e.bridge.Registered("carol")) == 1 })
			bobCallsBaresipFor(t, e.rtmpURL, c.id, 10*time.Second, c.d, "carol", b)
			testwait.For(t, 5*time.Second, "the leg's record", func() bool { return len(recs.all()) == 1 })
			r := recs.all()[0]
			pct, ok := r.LossOutPct()
			t.Logf("leg: %d reports from baresip, %d of %d packets lost (%.2f %%), round trip %v", r.PeerReports, r.PeerLost, r.PeerSent, pct, r.RTT)
			if c.reports && (!ok || pct != 0 || r.PeerSent < 200 || r.RTT > time.Second) {
				t.Errorf("the phone's reports in the record: %+v", r)
			}
		})
	}
}

// TestPeerBaresipEveryDeviceRings: bob has a web phone and a registered
// baresip that does not answer; alice calls bob: both ring, the web
// phone answers first, and the bridge cancels baresip's INVITE (487);
// the call goes on on the web softphone.
func TestPeerBaresipEveryDeviceRings(t *testing.T) {
	e := startEnv(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res := make(chan error, 1)
	go func() {
		_, err := softphone.Answer(ctx, softphone.Options{Server: e.rtmpURL, User: "bob", Secret: "bob", Codec: codec.Nellymoser,
			Mic: mic(), SetupTimeout: 20 * time.Second})
		res <- err
	}()
	testwait.For(t, 10*time.Second, "bob's web phone", func() bool { return e.calls.Presence()["bob"] == "online" })
	b := testpeer.StartBaresip(t, 30*time.Second, testpeer.BaresipOptions{
		Account:   "<sip:bob@" + e.bridge.Addr() + ">;auth_pass=bob;audio_codecs=PCMU",
		SourceWAV: carolMic(t), Seconds: 20,
	})
	testwait.For(t, 20*time.Second, "bob's registration", func() bool { return len(e.bridge.Registered("bob")) == 1 })
	r, err := softphone.Call(ctx, softphone.Options{Server: e.rtmpURL, User: "alice", Secret: "alice", Codec: codec.Nellymoser,
		Mic: mic(), Duration: 2 * time.Second, SetupTimeout: 10 * time.Second}, "bob")
	if err != nil {
		t.Fatalf("alice: %v\nbaresip: %s", err, b.Output())
	}
	checkTone(t, "alice", after(r.Heard, softphone.SampleRate/2), softphone.SampleRate, bobHz, 730)
	if err := <-res; err != nil {
		t.Errorf("bob's web phone: %v", err)
	}
	b.Stop()
	out := b.Output()
	if !strings.Contains(out, "Incoming call from:  sip:alice@") {
		t.Errorf("baresip (bob) did not ring:\n%s", out)
	}
}

// TestPeerBaresipDialsTrunk: baresip authenticated as carol dials
// +15551234567; the dial plan sends it to the trunk (sipp, echoing RTP),
// so carol hears her own 700 Hz; baresip hangs up when it exits and
// sipp counts one successful call.
func TestPeerBaresipDialsTrunk(t *testing.T) {
	uas, addr := testpeer.SippUAS(t, 30*time.Second, 1)
	e := startEnv(t, func(o *Options) { o.Trunks = []Trunk{trunk(addr)} })
	b := testpeer.StartBaresip(t, 30*time.Second, testpeer.BaresipOptions{
		Account: baresipAccount(e.bridge.Addr(), ";regint=0"), SourceWAV: carolMic(t),
		Exec: "/dial sip:+15551234567@" + e.bridge.Addr(), Seconds: 4,
	})
	if err := b.Wait(); err != nil {
		t.Fatalf("baresip: %v\n%s", err, b.Output())
	}
	if err := uas.Wait(); err != nil {
		t.Fatalf("sipp uas: %v\n%s", err, uas.Output())
	}
	pcm, rate, err := audiotest.ReadWAV(b.Heard())
	if err != nil {
		t.Fatalf("baresip's recording: %v\n%s", err, b.Output())
	}
	checkTone(t, "carol (baresip) through the trunk's echo", after(pcm, rate/2), rate, carolHz, bobHz)
}

// TestPeerBaresipCallsSIPUser: two baresips, alice (sending 500 Hz,
// not registered) calls carol (registered, answers automatically) by
// name: SIP to SIP through flashvox, both hear the other.
func TestPeerBaresipCallsSIPUser(t *testing.T) {
	e := startEnv(t, nil)
	carol := testpeer.StartBaresip(t, 30*time.Second, testpeer.BaresipOptions{
		Account: baresipAccount(e.bridge.Addr(), ";answermode=auto"), SourceWAV: carolMic(t), Seconds: 8,
	})
	testwait.For(t, 20*time.Second, "carol's registration", func() bool { return len(e.bridge.Registered("carol")) == 1 })
	aliceMic := filepath.Join(t.TempDir(), "alice.wav")
	if err := audiotest.WriteWAV(aliceMic, audiotest.Square(8000, 12*8000, bobHz, 0.3), 8000); err != nil {
		t.Fatal(err)
	}
	aliceCallsCarol(t, e, carol, "<sip:alice@"+e.bridge.Addr()+">;auth_pass=alice;audio_codecs=PCMU;regint=0", aliceMic)
}

// aliceCallsCarol runs a baresip alice (account, playing mic at bobHz) that
// dials carol's registered baresip (playing carolHz) for 4 s, then checks
// that each heard the other's tone and not its own.
func aliceCallsCarol(t *testing.T, e *env, carol *testpeer.Baresip, account, mic string) {
	t.Helper()
	alice := testpeer.StartBaresip(t, 30*time.Second, testpeer.BaresipOptions{
		Account: account, SourceWAV: mic, Exec: "/dial sip:carol@" + e.bridge.Addr(), Seconds: 4,
	})
	if err := alice.Wait(); err != nil {
		t.Fatalf("alice's baresip: %v\n%s", err, alice.Output())
	}
	carol.Stop()
	for _, p := range []struct {
		who       string
		b         *testpeer.Baresip
		want, not float64
	}{{"alice (baresip)", alice, carolHz, bobHz}, {"carol (baresip)", carol, bobHz, carolHz}} {
		pcm, rate, err := audiotest.ReadWAV(p.b.Heard())
		if err != nil {
			t.Fatalf("%s's recording: %v\n%s", p.who, err, p.b.Output())
		}
		checkTone(t, p.who, after(pcm, rate/2), rate, p.want, p.not)
	}
}
