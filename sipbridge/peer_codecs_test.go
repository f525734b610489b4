package sipbridge

import (
	"context"
	"maps"
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

// TestPeerSippOfferOrder: the INVITE a web user's call sends to the trunk
// offers wideband first by default (speex/16000 97, G.722 9, then PCMU,
// PCMA), or in the configured order: sip.codecs for every trunk, a
// trunk's own codecs over it. sipp (testdata/uas_offer.xml) checks the
// m= line and answers 486.
func TestPeerSippOfferOrder(t *testing.T) {
	for _, tc := range []struct {
		name   string
		global []codec.ID
		trunk  []codec.ID
		mline  string
	}{
		{"default", nil, nil, "RTP/AVP 96 97 9 0 8 101"},
		{"sip.codecs", []codec.ID{codec.G722, codec.PCMU}, nil, "RTP/AVP 9 0 101"},
		{"trunk codecs", nil, []codec.ID{codec.PCMA, codec.PCMU}, "RTP/AVP 8 0 101"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := sippScenario(t, "uas_offer.xml", "MLINE", "m=audio [0-9]+ "+tc.mline+"\r")
			uas, addr := testpeer.SippUAS(t, 30*time.Second, 1, "-sf", sc)
			e := startEnv(t, func(o *Options) {
				tr := trunk(addr)
				tr.Codecs = tc.trunk
				o.Trunks, o.Codecs = []Trunk{tr}, tc.global
			})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err := softphone.Call(ctx, softphone.Options{Server: e.rtmpURL, User: "alice", Secret: "alice", Codec: codec.Nellymoser,
				Mic: mic(), Duration: time.Second, SetupTimeout: 10 * time.Second}, "+15551234567")
			if err == nil || !strings.Contains(err.Error(), "486") {
				t.Errorf("call: %v, want the trunk's 486", err)
			}
			werr := uas.Wait()
			out := uas.Output()
			i := strings.Index(out, "offer: ")
			if i < 0 {
				t.Fatalf("sipp printed no offer (%v)\n%s", werr, out)
			}
			t.Logf("%s", strings.SplitN(out[i:], "\n", 2)[0])
			if werr != nil {
				t.Fatalf("sipp: the offer is not %q: %v", tc.mline, werr)
			}
		})
	}
}

// g722Account is a baresip account line offering codecs in that order.
func g722Account(user, addr, codecs, extra string) string {
	return "<sip:" + user + "@" + addr + ">;auth_pass=" + user + ";audio_codecs=" + codecs + extra
}

// mic16k writes a 12 s square of hz at 16 kHz: baresip's aufile does not
// resample, and G.722 runs at 16 kHz.
func mic16k(t *testing.T, hz float64) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "mic16k.wav")
	if err := audiotest.WriteWAV(p, audiotest.Square(16000, 12*16000, hz, 0.3), 16000); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkCodecs asserts the legs established by codec.
func checkCodecs(t *testing.T, e *env, want map[string]uint64) {
	t.Helper()
	if got := e.bridge.Stats.Codecs(); !maps.Equal(got, want) {
		t.Errorf("legs by codec %v, want %v", got, want)
	}
}

// TestPeerBaresipWideband: a registered baresip (PCMU, PCMA and G.722,
// narrowband first as linphone lists them) called by web user bob gets
// an offer with G.722 before G.711 and answers G.722; baresip calling bob
// with PCMU first in its offer is answered G.722 (our order). Both
// hear the other's tone.
func TestPeerBaresipWideband(t *testing.T) {
	t.Run("web calls phone", func(t *testing.T) {
		e := startEnv(t, nil)
		b := testpeer.StartBaresip(t, 30*time.Second, testpeer.BaresipOptions{
			Account:   g722Account("carol", e.bridge.Addr(), "PCMU,PCMA,G722/16000/1", ";answermode=auto"),
			SourceWAV: mic16k(t, carolHz), Seconds: 20,
		})
		testwait.For(t, 20*time.Second, "carol's registration", func() bool { return len(e.bridge.Registered("carol")) == 1 })
		bobCallsBaresip(t, e.rtmpURL, codec.Nellymoser, 10*time.Second, "carol", b)
		checkCodecs(t, e, map[string]uint64{"g722": 1})
	})
	t.Run("phone calls web", func(t *testing.T) {
		e := startEnv(t, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		res := make(chan error, 1)
		var heard []int16
		go func() {
			r, err := softphone.Answer(ctx, softphone.Options{Server: e.rtmpURL, User: "bob", Secret: "bob", Codec: codec.Nellymoser,
				Mic: mic(), Duration: 4 * time.Second, SetupTimeout: 20 * time.Second})
			if r != nil {
				heard = r.Heard
			}
			res <- err
		}()
		testwait.For(t, 10*time.Second, "bob online", func() bool { return e.calls.Presence()["bob"] == "online" })
		b := testpeer.StartBaresip(t, 30*time.Second, testpeer.BaresipOptions{
			Account:   g722Account("carol", e.bridge.Addr(), "PCMU,G722/16000/1", ";regint=0"),
			SourceWAV: mic16k(t, carolHz), Exec: "/dial sip:bob@" + e.bridge.Addr(), Seconds: 20,
		})
		if err := <-res; err != nil {
			t.Fatalf("bob: %v\nbaresip: %s", err, b.Output())
		}
		checkBothHeard(t, heard, b)
		checkCodecs(t, e, map[string]uint64{"g722": 1})
	})
}

// TestPeerBaresipPhoneToPhonePassThrough: baresip alice (G.722 first,
// then PCMU) calls registered baresip carol (PCMU first, then G.722)
// through flashvox. carol's INVITE offers what alice offered first, she
// answers G.722, alice's answer takes the same codec: both legs G.722,
// the hub decodes nothing (pass-through), and each hears the other.
func TestPeerBaresipPhoneToPhonePassThrough(t *testing.T) {
	e := startEnv(t, nil)
	carol := testpeer.StartBaresip(t, 30*time.Second, testpeer.BaresipOptions{
		Account: g722Account("carol", e.bridge.Addr(), "PCMU,G722/16000/1", ";answermode=auto"), SourceWAV: mic16k(t, carolHz), Seconds: 8,
	})
	testwait.For(t, 20*time.Second, "carol's registration", func() bool { return len(e.bridge.Registered("carol")) == 1 })
	aliceCallsCarol(t, e, carol, g722Account("alice", e.bridge.Addr(), "G722/16000/1,PCMU", ";regint=0"), mic16k(t, bobHz))
	checkCodecs(t, e, map[string]uint64{"g722": 2})
	tr, pass := e.tc.Stats.TranscodedFrames.Load(), e.tc.Stats.PassedThroughFrames.Load()
	t.Logf("hub: %d frames transcoded, %d passed through", tr, pass)
	if tr != 0 {
		t.Errorf("the hub decoded %d frames of a G.722 ↔ G.722 call", tr)
	}
}

// TestPeerSippPhoneOfferOrder: the INVITE that rings a registered phone
// offers wideband first (96 97 9 0 8 101: Opus, Speex, G.722, G.711),
// and sip.codecs changes it. sipp registers carol
// (testdata/register_at.xml) with its Contact at a second sipp
// (testdata/uas_offer.xml) that checks the m= line and answers 486; web
// user bob's call to carol ends busy.
func TestPeerSippPhoneOfferOrder(t *testing.T) {
	for _, tc := range []struct {
		name   string
		codecs []codec.ID
		mline  string
	}{
		{"default", nil, "RTP/AVP 96 97 9 0 8 101"},
		{"sip.codecs", []codec.ID{codec.PCMA, codec.G722}, "RTP/AVP 8 9 101"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := startEnv(t, func(o *Options) { o.Codecs = tc.codecs })
			sc := sippScenario(t, "uas_offer.xml", "MLINE", "m=audio [0-9]+ "+tc.mline+"\r")
			uas, uasAddr := testpeer.SippUAS(t, 30*time.Second, 1, "-sf", sc)
			_, port, _ := strings.Cut(uasAddr, ":")
			reg := testpeer.SippUAC(t, 20*time.Second, e.bridge.Addr(), "-sf", "testdata/register_at.xml", "-s", "carol",
				"-au", "carol", "-ap", "carol", "-key", "expires", "60", "-key", "contact_port", port, "-m", "1")
			if err := reg.Wait(); err != nil {
				t.Fatalf("sipp register: %v\n%s", err, reg.Output())
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err := softphone.Call(ctx, softphone.Options{Server: e.rtmpURL, User: "bob", Secret: "bob", Codec: codec.Nellymoser,
				Mic: mic(), Duration: time.Second, SetupTimeout: 10 * time.Second}, "carol")
			if err == nil {
				t.Errorf("bob's call to carol succeeded, want busy")
			}
			werr := uas.Wait()
			out := uas.Output()
			i := strings.Index(out, "offer: ")
			if i < 0 {
				t.Fatalf("sipp printed no offer (%v)\n%s", werr, out)
			}
			t.Logf("%s", strings.SplitN(out[i:], "\n", 2)[0])
			if werr != nil {
				t.Fatalf("sipp: the offer to the phone is not %q: %v", tc.mline, werr)
			}
		})
	}
}
