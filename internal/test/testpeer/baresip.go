package testpeer

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testwait"
)

// baresipModules is where Debian's baresip-core installs its modules.
const baresipModules = "/usr/lib/baresip/modules"

// BaresipOptions configure a headless baresip (PEERS.md): audio from a
// WAV file, what it hears recorded by the sndfile module, no sound card.
type BaresipOptions struct {
	// Account is the accounts file line, e.g.
	// "<sip:carol@127.0.0.1:5060>;auth_pass=carol;answermode=auto;audio_codecs=PCMU".
	Account string
	// SourceWAV is the microphone: a mono WAV file (8 kHz for G.711).
	SourceWAV string
	// Exec is a command run at start (-e), e.g. "/dial sip:bob@127.0.0.1:5060".
	Exec string
	// Seconds is how long baresip runs (-t).
	Seconds int
	// Config are extra config lines, e.g. "sip_cafile /path/ca.pem".
	Config []string
}

// Baresip is a running baresip.
type Baresip struct {
	*Proc
	Addr   string // its SIP "127.0.0.1:PORT"
	RecDir string // where sndfile writes dump-*-dec.wav (heard) and -enc.wav (sent)
}

// StartBaresip writes a config folder in a temporary directory and runs
// baresip with it, bounded by timeout.
func StartBaresip(t testing.TB, timeout time.Duration, o BaresipOptions) *Baresip {
	t.Helper()
	Require(t, "baresip")
	if _, err := os.Stat(filepath.Join(baresipModules, "sndfile.so")); err != nil {
		t.Fatalf("baresip's modules are missing (%v): apt-get install -y baresip", err)
	}
	dir := t.TempDir()
	rec := filepath.Join(dir, "rec")
	if err := os.Mkdir(rec, 0o755); err != nil {
		t.Fatal(err)
	}
	port := baresipPort(t)
	rtp := FreePort(t) &^ 1
	conf := []string{
		"sip_listen 127.0.0.1:" + strconv.Itoa(port),
		"net_interface 127.0.0.1",
		"audio_player aubridge,nil",
		"audio_source aufile," + o.SourceWAV,
		"audio_alert aubridge,nil",
		"snd_path " + rec,
		fmt.Sprintf("rtp_ports %d-%d", rtp, rtp+20),
		"module_path " + baresipModules,
		"module g711.so",
		"module g722.so",
		"module sndfile.so",
		"module aufile.so",
		"module aubridge.so",
		"module_tmp account.so",
		"module_app menu.so",
	}
	conf = append(conf, o.Config...)
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("config", strings.Join(conf, "\n")+"\n")
	write("accounts", o.Account+"\n")
	write("contacts", "")
	args := []string{"-f", dir, "-t", strconv.Itoa(o.Seconds)}
	if o.Exec != "" {
		args = append(args, "-e", o.Exec)
	}
	p := Start(t, timeout, "baresip", args...)
	return &Baresip{Proc: p, Addr: "127.0.0.1:" + strconv.Itoa(port), RecDir: rec}
}

// Heard returns the path of the WAV baresip recorded of what it heard
// ("" if none yet).
func (b *Baresip) Heard() string {
	m, _ := filepath.Glob(filepath.Join(b.RecDir, "dump-*-dec.wav"))
	if len(m) == 0 {
		return ""
	}
	return m[len(m)-1]
}

// WaitHeard waits (up to within) until baresip's recording of what it
// heard holds at least d of audio: a loaded machine may start a call's
// audio late, so a fixed talk time can leave a recording too short to
// judge. libsndfile appends each decoded frame with write(2), so the
// file's size tells how much it has recorded; the WAV header gives the
// format (PCM16, the header sizes are written only at the end).
func (b *Baresip) WaitHeard(t testing.TB, d, within time.Duration) {
	t.Helper()
	var got time.Duration
	testwait.ForDetail(t, within, fmt.Sprintf("baresip to record %v of what it hears", d),
		func() bool { got = b.heardFor(); return got >= d },
		func() string { return fmt.Sprintf("recorded %v\n%s", got, b.Output()) })
}

// heardFor is how much audio baresip's recording holds so far.
func (b *Baresip) heardFor() time.Duration {
	p := b.Heard()
	if p == "" {
		return 0
	}
	f, err := os.Open(p)
	if err != nil {
		return 0
	}
	defer f.Close()
	var h [44]byte
	st, err := f.Stat()
	if err != nil || st.Size() <= int64(len(h)) {
		return 0
	}
	if _, err := io.ReadFull(f, h[:]); err != nil || string(h[0:4]) != "RIFF" || string(h[12:16]) != "fmt " {
		return 0
	}
	rate := int64(binary.LittleEndian.Uint32(h[24:28]))
	frame := int64(binary.LittleEndian.Uint16(h[32:34])) // block align: bytes per sample frame
	if rate == 0 || frame == 0 {
		return 0
	}
	samples := (st.Size() - int64(len(h))) / frame
	return time.Duration(samples) * time.Second / time.Duration(rate)
}

// baresipPort returns a port free for baresip's UDP and TCP SIP sockets
// and for the TLS socket libre binds on the next port. That bind does not
// set SO_REUSEADDR, so a connection of an earlier test lingering in
// TIME_WAIT on the port fails baresip's start ("SIP/TLS transport failed");
// the check binds the same way.
func baresipPort(t testing.TB) int {
	t.Helper()
	for range 100 {
		if p := FreePorts(t, 2, 1); tcpFreeStrict(p) && tcpFreeStrict(p+1) {
			return p
		}
	}
	t.Fatal("no port free for baresip's UDP, TCP and TLS sockets")
	return 0
}

// tcpFreeStrict reports whether a TCP listener without SO_REUSEADDR can
// bind 127.0.0.1:port.
func tcpFreeStrict(port int) bool {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = noReuseAddr(fd)
		}); err != nil {
			return err
		}
		return serr
	}}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}
