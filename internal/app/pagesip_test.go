//go:build cgo

package app

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

// pageSIPYAML: MD5 digests (baresip 1.0 gives up on SHA-256 challenges)
// and the trunk at trunk ("HOST:PORT"; the default dial plan sends
// national numbers to it).
func pageSIPYAML(trunk string) string {
	return fmt.Sprintf(`sip:
  digest_algorithms: [MD5]
  trunks:
    - {name: upstream, address: %q, transport: udp, inbound_from: [127.0.0.1/32]}
`, trunk)
}

// dial calls to with the page's dial form.
func (p *pageTab) dial(to string) {
	p.t.Helper()
	p.do("dial "+to, 5*time.Second,
		chromedp.SetValue(chromedp.CSS(`#dial-to`), to),
		chromedp.Click(chromedp.CSS(`#dial button`)))
}

// TestPeerPageCallsBaresip: baresip registers as carol (PCMU, answers by
// itself); alice's page (440 Hz) calls carol with its dial form. The page
// plays baresip's PCMU as it is (WHEP in PCMU) and so publishes PCMU too:
// nothing is transcoded either way. The page hears baresip's 880 Hz,
// baresip records the page's 440 Hz; a digit from the page's keypad
// reaches baresip as RFC 4733 telephone-events.
func TestPeerPageCallsBaresip(t *testing.T) {
	testpeer.SkipShort(t, "chromium")
	const aliceHz, carolHz = 440, 880
	a := startPageAppYAML(t, pageSIPYAML("127.0.0.1:9"))
	sipAddr := a.srv.sip.Addr()
	wav := filepath.Join(t.TempDir(), "carol.wav")
	if err := audiotest.WriteWAV(wav, audiotest.Sine(8000, 8000*30, carolHz, 0.3), 8000); err != nil {
		t.Fatal(err)
	}
	b := testpeer.StartBaresip(t, 60*time.Second, testpeer.BaresipOptions{
		Account:   "<sip:carol@" + sipAddr + ">;auth_pass=carol;answermode=auto;audio_codecs=PCMU",
		SourceWAV: wav, Seconds: 30,
	})
	testwait.For(t, 20*time.Second, "carol's registration", func() bool { return len(a.srv.sip.Registered("carol")) == 1 })
	alice := signIn(t, pageBrowser(t, aliceHz), a.http, "alice")
	plainMic(alice)
	alice.dial("carol")
	st := alice.hears(carolHz, "relay", 20*time.Second)
	t.Logf("the page hears baresip: %+v", st)
	if c := pageEval[string](alice, `flashvoxMedia.state().codec`); c != "pcmu" {
		t.Errorf("the page's relay codec is %q, want pcmu (baresip's)", c)
	}
	testwait.For(t, 5*time.Second, "baresip's audio passed through to the page", func() bool {
		return a.metrics(t)["flashvox_webrtc_passthrough_frames_total"] > 50
	})
	logEdgeFrames(t, a)
	if m := a.metrics(t); m["flashvox_webrtc_transcoded_frames_total"] != 0 || m["flashvox_hub_transcoded_frames_total"] != 0 {
		t.Errorf("a PCMU call transcoded: %v frames at the edge, %v in the hub", m["flashvox_webrtc_transcoded_frames_total"],
			m["flashvox_hub_transcoded_frames_total"])
	}
	alice.do("DTMF 5", 3*time.Second, chromedp.Click(chromedp.CSS(`#dtmf button:nth-child(5)`)))
	testwait.For(t, 5*time.Second, "baresip to get the page's digit", func() bool {
		return strings.Contains(b.Output(), "received event: '5' (end=1)")
	})
	b.WaitHeard(t, 2500*time.Millisecond, 20*time.Second)
	alice.do("hang up", 5*time.Second, chromedp.Click(chromedp.CSS(`#hangup`)),
		chromedp.Query(chromedp.CSS(`#call[hidden]`), chromedp.NodeReady))
	testwait.For(t, 10*time.Second, "the page's WebRTC sessions to end", func() bool { return a.srv.rtc.Sessions() == 0 })
	b.Stop()
	heard := b.Heard()
	if heard == "" {
		t.Fatalf("baresip recorded nothing\n%s", b.Output())
	}
	pcm, rate, err := audiotest.ReadWAV(heard)
	if err != nil {
		t.Fatal(err)
	}
	if len(pcm) < 2*rate {
		t.Fatalf("baresip recorded %.1f s\n%s", float64(len(pcm))/float64(rate), b.Output())
	}
	audiotest.HearsOthers(t, "baresip", pcm[len(pcm)-2*rate:len(pcm)-rate/5], rate, carolHz, aliceHz)
}

// TestPeerPageCallsTrunk: alice's page dials a national number; the dial
// plan sends it to the trunk, a sipp UAS echoing RTP: the page hears its
// own 440 Hz come back.
func TestPeerPageCallsTrunk(t *testing.T) {
	testpeer.SkipShort(t, "chromium")
	uas, addr := testpeer.SippUAS(t, 60*time.Second, 1)
	a := startPageAppYAML(t, pageSIPYAML(addr))
	alice := signIn(t, pageBrowser(t, 440), a.http, "alice")
	plainMic(alice)
	alice.dial("5551234567")
	st := alice.hears(440, "relay", 20*time.Second)
	t.Logf("the page hears its own tone from the trunk's echo: %+v", st)
	logEdgeFrames(t, a)
	alice.do("hang up", 5*time.Second, chromedp.Click(chromedp.CSS(`#hangup`)),
		chromedp.Query(chromedp.CSS(`#call[hidden]`), chromedp.NodeReady))
	if err := uas.Wait(); err != nil {
		t.Fatalf("sipp uas: %v\n%s", err, uas.Output())
	}
}

// logEdgeFrames logs how the WHEP edge sent the far leg's audio to the
// page (in its own codec, passed through, or transcoded) and what the
// hub's transcoders did (the SIP leg's subscription to the page's audio).
func logEdgeFrames(t *testing.T, a *pageApp) {
	t.Helper()
	m := a.metrics(t)
	t.Logf("WHEP frames to the page: %v passed through, %v transcoded; hub transcoders: %v passed through, %v transcoded",
		m["flashvox_webrtc_passthrough_frames_total"], m["flashvox_webrtc_transcoded_frames_total"],
		m["flashvox_hub_passthrough_frames_total"], m["flashvox_hub_transcoded_frames_total"])
}

// TestPeerPageGetsSIPDTMF: a trunk's caller (sipp) rings alice's page on
// an inbound number; she answers; the caller's RFC 2833 digit 5 reaches
// the page as the call's dtmf event ("… sent 5"), and the caller's BYE
// ends the call on the page.
func TestPeerPageGetsSIPDTMF(t *testing.T) {
	testpeer.SkipShort(t, "chromium")
	const pcaps = "/usr/share/sip-tester"
	if _, err := os.Stat(filepath.Join(pcaps, "dtmf_2833_5.pcap")); err != nil {
		t.Fatalf("sip-tester's pcaps are missing (%v): apt-get install -y sip-tester", err)
	}
	b, err := os.ReadFile(filepath.Join("testdata", "uac_dtmf.xml"))
	if err != nil {
		t.Fatal(err)
	}
	sc := filepath.Join(t.TempDir(), "uac_dtmf.xml")
	if err := os.WriteFile(sc, []byte(strings.ReplaceAll(string(b), "PCAPDIR", pcaps)), 0o600); err != nil {
		t.Fatal(err)
	}
	a := startPageAppYAML(t, pageSIPYAML("127.0.0.1:9")+"  inbound:\n    - {number: \"5550100\", target: alice}\n")
	alice := signIn(t, pageBrowser(t, 440), a.http, "alice")
	uac := testpeer.SippUAC(t, 60*time.Second, a.srv.sip.Addr(), "-sf", sc, "-s", "5550100", "-m", "1")
	alice.do("incoming call", 10*time.Second, chromedp.WaitVisible(chromedp.CSS(`#answer`)))
	alice.do("answer", 5*time.Second, chromedp.Click(chromedp.CSS(`#answer`)), chromedp.WaitVisible(chromedp.CSS(`#media`)))
	testwait.For(t, 10*time.Second, "the page to be told the caller's digit", func() bool {
		return strings.HasSuffix(text(t, alice, "notice"), " sent 5")
	})
	t.Logf("the page shows %q", text(t, alice, "notice"))
	alice.do("the caller's hang-up", 10*time.Second, chromedp.Query(chromedp.CSS(`#call[hidden]`), chromedp.NodeReady))
	if err := uac.Wait(); err != nil {
		t.Fatalf("sipp: %v\n%s", err, uac.Output())
	}
}
