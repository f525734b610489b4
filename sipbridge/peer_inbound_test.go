package sipbridge

import (
	"context"
	"net"
	"os"
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

// pcapDir is where Debian's sip-tester installs its RTP pcaps.
const pcapDir = "/usr/share/sip-tester"

// uacScenario writes testdata/uac_pcap.xml with the pcap folder filled in
// and the replacements (old, new, …) made.
func uacScenario(t *testing.T, replace ...string) string {
	t.Helper()
	testpeer.Require(t, "sipp")
	if _, err := os.Stat(filepath.Join(pcapDir, "g711a.pcap")); err != nil {
		t.Fatalf("sip-tester's pcaps are missing (%v): apt-get install -y sip-tester", err)
	}
	b, err := os.ReadFile("testdata/uac_pcap.xml")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "uac_pcap.xml")
	text := strings.NewReplacer(append([]string{"PCAPDIR", pcapDir}, replace...)...).Replace(string(b))
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPeerSippInboundToUser: sipp calls 15550001 with G.711 A-law audio
// and the RFC 2833 digit 1; bob's headless phone gets onIncomingCall,
// answers, hears the audio, gets onDTMF "1" and onBye when sipp hangs up;
// sipp's call succeeds.
func TestPeerSippInboundToUser(t *testing.T) {
	scen := uacScenario(t)
	e := startEnv(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	type answer struct {
		r   *softphone.Result
		err error
	}
	res := make(chan answer, 1)
	go func() {
		r, err := softphone.Answer(ctx, softphone.Options{Server: e.rtmpURL, User: "bob", Secret: "bob", Codec: codec.Nellymoser,
			Mic: mic(), SetupTimeout: 20 * time.Second, OnHear: nil})
		res <- answer{r, err}
	}()
	// bob must be online before sipp calls.
	testwait.For(t, 20*time.Second, "bob online", func() bool { return e.calls.Presence()["bob"] == "online" })
	uac := testpeer.SippUAC(t, 30*time.Second, e.bridge.Addr(), "-sf", scen, "-s", "15550001", "-m", "1")
	a := <-res
	if a.err != nil {
		t.Fatalf("bob: %v\nsipp: %s", a.err, uac.Output())
	}
	if a.r.End == nil || a.r.End.GetString("type") != "bye" {
		t.Errorf("bob's call ended with %v", a.r.End)
	}
	if a.r.Digits != "1" {
		t.Errorf("bob got DTMF %q, want 1", a.r.Digits)
	}
	if lvl := audiotest.RMSDB(a.r.Heard); len(a.r.Heard) < 5*softphone.SampleRate || lvl < -40 {
		t.Errorf("bob heard %d samples at %.1f dBFS", len(a.r.Heard), lvl)
	} else {
		t.Logf("bob heard %.1f s at %.1f dBFS", float64(len(a.r.Heard))/softphone.SampleRate, lvl)
	}
	if err := uac.Wait(); err != nil {
		t.Fatalf("sipp uac: %v\n%s", err, uac.Output())
	}
}

// TestPeerSippInboundEcho: sipp calls the echo number; the bridge answers
// and sends back every packet; sipp's call succeeds.
func TestPeerSippInboundEcho(t *testing.T) {
	scen := uacScenario(t)
	e := startEnv(t, nil)
	uac := testpeer.SippUAC(t, 30*time.Second, e.bridge.Addr(), "-sf", scen, "-s", "15550000", "-m", "1")
	if err := uac.Wait(); err != nil {
		t.Fatalf("sipp uac: %v\n%s", err, uac.Output())
	}
	if in, out := e.bridge.Stats.RTPIn.Load(), e.bridge.Stats.RTPOut.Load(); in < 200 || out < 200 {
		t.Errorf("echo: %d RTP packets in, %d out", in, out)
	}
}

// TestPeerSippTollFraud: an INVITE to a trunk number without credentials
// gets 407 (a login is required; nothing says whether the number or the
// caller exist), and the trunk receives nothing.
func TestPeerSippTollFraud(t *testing.T) {
	tr, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	e := startEnv(t, func(o *Options) { o.Trunks = []Trunk{trunk(tr.LocalAddr().String())} })
	uac := testpeer.SippUAC(t, 20*time.Second, e.bridge.Addr(), "-sn", "uac", "-s", "+15551234567", "-m", "1", "-recv_timeout", "5000")
	if err := uac.Wait(); err == nil {
		t.Fatalf("sipp's call to a trunk number succeeded:\n%s", uac.Output())
	}
	if !strings.Contains(uac.Output(), "407") {
		t.Errorf("sipp did not see 407:\n%s", uac.Output())
	}
	tr.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	buf := make([]byte, 2048)
	if n, _, err := tr.ReadFrom(buf); err == nil {
		t.Errorf("the trunk received %d bytes: %q", n, buf[:n])
	}
}

// TestPeerSippInboundCodecEcho: sipp calls a number whose target is
// echo:nellymoser; its A-law audio goes through Nellymoser and back (the
// media work of a SIP ↔ Flash call) and comes back as RTP; sipp's call
// succeeds.
func TestPeerSippInboundCodecEcho(t *testing.T) {
	scen := uacScenario(t)
	e := startEnv(t, func(o *Options) {
		o.Inbound = append(o.Inbound, Inbound{Number: "15550002", Target: "echo:nellymoser"})
	})
	uac := testpeer.SippUAC(t, 30*time.Second, e.bridge.Addr(), "-sf", scen, "-s", "15550002", "-m", "1")
	if err := uac.Wait(); err != nil {
		t.Fatalf("sipp uac: %v\n%s", err, uac.Output())
	}
	if in, out := e.bridge.Stats.RTPIn.Load(), e.bridge.Stats.RTPOut.Load(); in < 200 || out < 150 {
		t.Errorf("codec echo: %d RTP packets in, %d out", in, out)
	} else {
		t.Logf("codec echo: %d RTP packets in, %d out", in, out)
	}
}
