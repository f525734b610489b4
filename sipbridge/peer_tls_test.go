package sipbridge

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/internal/tlscert"
	"github.com/flashvox/flashvox/softphone"
)

// tlsPeers is a self-signed pair for 127.0.0.1 shared by the bridge and
// baresip: the bridge's listener certificate, the CA both sides verify
// the other with, and baresip's sip_certificate (certificate and key in
// one PEM, as libre reads it).
type tlsPeers struct {
	cert, key, both string
	pool            *x509.CertPool
}

func newTLSPeers(t *testing.T) tlsPeers {
	t.Helper()
	dir := t.TempDir()
	p := tlsPeers{cert: filepath.Join(dir, "cert.pem"), key: filepath.Join(dir, "key.pem"), both: filepath.Join(dir, "both.pem")}
	c, k, err := tlscert.SelfSigned([]string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		path string
		body []byte
	}{{p.cert, c}, {p.key, k}, {p.both, append(append([]byte{}, c...), k...)}} {
		if err := os.WriteFile(f.path, f.body, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p.pool = x509.NewCertPool()
	p.pool.AppendCertsFromPEM(c)
	return p
}

// startTLSEnv is startEnvRing with a SIP-over-TLS listener on a free
// port; the bridge trusts roots when it dials over TLS.
func startTLSEnv(t *testing.T, p tlsPeers, ring time.Duration, roots *x509.CertPool) *env {
	t.Helper()
	certs, err := tlscert.NewReloader(p.cert, p.key)
	if err != nil {
		t.Fatal(err)
	}
	e := startEnvRing(t, ring, func(o *Options) {
		o.TLSListen, o.TLSConfig = "127.0.0.1:0", certs.Config()
		o.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	})
	if e.bridge.TLSAddr() == "" {
		t.Fatal("no TLS listener")
	}
	return e
}

// baresipTLS is baresip trusting the bridge's certificate and serving its
// own (the bridge dials it over TLS when it rings the phone).
func baresipTLS(p tlsPeers) []string {
	return []string{"sip_cafile " + p.cert, "sip_certificate " + p.both}
}

// waitRegisteredTLS waits for carol's binding, showing baresip's output
// if it does not come.
func waitRegisteredTLS(t *testing.T, e *env, b *testpeer.Baresip) {
	t.Helper()
	testwait.ForDetail(t, 20*time.Second, "carol to register over TLS", func() bool { return len(e.bridge.Registered("carol")) == 1 }, b.Output)
}

// TestPeerBaresipTLS: baresip registers as carol over TLS (digest auth on
// a TLS connection): her binding says transport=tls. Web user bob
// (Nellymoser) calls carol: the bridge dials her contact over TLS,
// verifying her certificate, and both hear the other's tone.
func TestPeerBaresipTLS(t *testing.T) {
	p := newTLSPeers(t)
	e := startTLSEnv(t, p, 10*time.Second, p.pool)
	addr := e.bridge.TLSAddr()
	b := testpeer.StartBaresip(t, 40*time.Second, testpeer.BaresipOptions{
		Account:   "<sip:carol@" + addr + ";transport=tls>;auth_pass=carol;answermode=auto;audio_codecs=PCMU",
		SourceWAV: carolMic(t), Seconds: 25, Config: baresipTLS(p),
	})
	waitRegisteredTLS(t, e, b)
	if c := e.bridge.Registered("carol")[0]; !strings.Contains(strings.ToLower(c), "transport=tls") {
		t.Fatalf("carol's contact %q does not say transport=tls\n%s", c, b.Output())
	}
	bobCallsBaresip(t, e.rtmpURL, codec.Nellymoser, 15*time.Second, "carol", b)
}

// TestPeerBaresipTLSEcho: baresip (carol, authenticated on the 407)
// calls the echo number over TLS and hears her own tone played back;
// the INVITE and its responses went over the TLS listener only.
func TestPeerBaresipTLSEcho(t *testing.T) {
	p := newTLSPeers(t)
	e := startTLSEnv(t, p, 10*time.Second, p.pool)
	addr := e.bridge.TLSAddr()
	b := testpeer.StartBaresip(t, 30*time.Second, testpeer.BaresipOptions{
		Account:   "<sip:carol@" + addr + ";transport=tls>;auth_pass=carol;audio_codecs=PCMU;regint=0",
		SourceWAV: carolMic(t), Exec: "/dial sip:15550000@" + addr + ";transport=tls", Seconds: 5, Config: baresipTLS(p),
	})
	if err := b.Wait(); err != nil {
		t.Fatalf("baresip: %v\n%s", err, b.Output())
	}
	if n := e.bridge.Stats.Attempts.Load(); n < 1 {
		t.Errorf("the bridge saw %d calls\n%s", n, b.Output())
	}
	heard := b.Heard()
	if heard == "" {
		t.Fatalf("baresip recorded nothing\n%s", b.Output())
	}
	pcm, rate, err := audiotest.ReadWAV(heard)
	if err != nil {
		t.Fatal(err)
	}
	w := audiotest.ToneDB(after(pcm, rate/2), rate, carolHz)
	t.Logf("carol heard %.1f s of echo, %d Hz at %.1f dB", float64(len(pcm))/float64(rate), carolHz, w)
	if w < -35 {
		t.Errorf("carol did not hear her %d Hz echoed (%.1f dB)\n%s", carolHz, w, b.Output())
	}
}

// TestPeerBaresipTLSUntrusted: the bridge does not trust carol's
// certificate, so ringing her registered TLS contact fails in the TLS
// handshake: baresip never rings and bob's call ends unanswered.
func TestPeerBaresipTLSUntrusted(t *testing.T) {
	p := newTLSPeers(t)
	e := startTLSEnv(t, p, 3*time.Second, x509.NewCertPool())
	addr := e.bridge.TLSAddr()
	b := testpeer.StartBaresip(t, 40*time.Second, testpeer.BaresipOptions{
		Account:   "<sip:carol@" + addr + ";transport=tls>;auth_pass=carol;answermode=auto;audio_codecs=PCMU",
		SourceWAV: carolMic(t), Seconds: 25, Config: baresipTLS(p),
	})
	waitRegisteredTLS(t, e, b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := softphone.Call(ctx, softphone.Options{Server: e.rtmpURL, User: "bob", Secret: "bob", Codec: codec.Nellymoser,
		Mic: mic(), Duration: 2 * time.Second, SetupTimeout: 15 * time.Second}, "carol")
	b.Stop()
	if err == nil {
		t.Fatalf("bob's call to carol was answered over an unverified TLS connection\n%s", b.Output())
	}
	t.Logf("bob: %v", err)
	if strings.Contains(b.Output(), "Incoming call") {
		t.Errorf("baresip rang although the bridge must not trust it:\n%s", b.Output())
	}
}

// TestPeerBaresipTLSTrunk: the trunk is a baresip answering
// +15551234567 on its TLS port (libre listens for TLS on its SIP port + 1);
// the trunk has transport: tls, so bob's call to the number is dialed over
// TLS, verifying the trunk's certificate, and each side hears the other.
func TestPeerBaresipTLSTrunk(t *testing.T) {
	p := newTLSPeers(t)
	certs, err := tlscert.NewReloader(p.cert, p.key)
	if err != nil {
		t.Fatal(err)
	}
	b := testpeer.StartBaresip(t, 40*time.Second, testpeer.BaresipOptions{
		Account:   "<sip:+15551234567@127.0.0.1>;regint=0;answermode=auto;audio_codecs=PCMU",
		SourceWAV: carolMic(t), Seconds: 25, Config: baresipTLS(p),
	})
	host, ps, err := net.SplitHostPort(b.Addr)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(ps)
	trunkAddr := net.JoinHostPort(host, strconv.Itoa(port+1))
	e := startEnv(t, func(o *Options) {
		o.TLSListen, o.TLSConfig = "127.0.0.1:0", certs.Config()
		o.TLSClientConfig = &tls.Config{RootCAs: p.pool, MinVersion: tls.VersionTLS12}
		o.Trunks = []Trunk{{Name: "upstream", Address: trunkAddr, Transport: "tls"}}
	})
	testwait.For(t, 10*time.Second, "baresip's TLS port", func() bool {
		c, err := net.Dial("tcp", trunkAddr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	bobCallsBaresip(t, e.rtmpURL, codec.Nellymoser, 15*time.Second, "+15551234567", b)
}
