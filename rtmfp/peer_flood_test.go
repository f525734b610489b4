package rtmfp

import (
	"context"
	"crypto/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/rtmfp/wire"
)

// floodSources is how many source addresses (127.0.1.1 …) the forged
// hellos of TestPeerIHelloFloodRSS come from.
const floodSources = 100

// TestPeerIHelloFloodRSS is the IHello-flood acceptance check on the real
// binary: 20 000 forged IHellos from 100 addresses leave the flashvox
// process under 300 MB of RSS, and tcconn (default options: HMAC and
// sequence numbers required) still completes a handshake and connects.
func TestPeerIHelloFloodRSS(t *testing.T) {
	tcconn := filepath.Join(testpeer.RTMFPTools(t), "tcconn")
	bin := testpeer.Flashvox(t)
	udp := testpeer.FreePort(t)
	rtmpPort, httpPort := testpeer.FreePort(t), testpeer.FreePort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "run") // testpeer.Start takes no environment
	cmd.Env = append(os.Environ(),
		"FLASHVOX_RTMFP_ENABLED=true",
		"FLASHVOX_RTMFP_LISTEN=127.0.0.1:"+strconv.Itoa(udp),
		"FLASHVOX_RTMP_LISTEN=127.0.0.1:"+strconv.Itoa(rtmpPort),
		"FLASHVOX_HTTP_LISTEN=127.0.0.1:"+strconv.Itoa(httpPort),
		"FLASHVOX_SIP_LISTEN=127.0.0.1:0",
		"FLASHVOX_LOG_LEVEL=warn")
	logs := &testpeer.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("flashvox log:\n%s", logs.String())
		}
	})
	testpeer.WaitTCP(t, "127.0.0.1:"+strconv.Itoa(rtmpPort), 10*time.Second)
	server := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: udp}

	before := testpeer.VmRSS(t, cmd.Process.Pid)
	var answered atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := range floodSources {
		c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 1, byte(1+i))}, server)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() { // one forger per source address: sends its share, counts the RHellos
			defer wg.Done()
			defer c.Close()
			hs := wire.NewDefaultCrypto()
			buf := make([]byte, wire.MaxDatagram)
			for range 20000 / floodSources {
				tag := make([]byte, 16)
				_, _ = rand.Read(tag)
				ih := wire.IHello{EPD: wire.AppendOption(nil, wire.EPDAncillary, []byte("rtmfp://127.0.0.1/live")), Tag: tag}
				d := hs.Seal(nil, 0, (&wire.Packet{Header: wire.Header{Flags: wire.ModeStartup}, Chunks: []wire.Chunk{{Type: wire.ChunkIHello, Value: ih.AppendTo(nil)}}}).AppendTo(nil))
				_, _ = c.Write(d)
				for { // drain the replies without blocking the flood
					_ = c.SetReadDeadline(time.Now())
					if _, err := c.Read(buf); err != nil {
						break
					}
					answered.Add(1)
				}
			}
			_ = c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
			for {
				if _, err := c.Read(buf); err != nil {
					return
				}
				answered.Add(1)
			}
		}()
	}
	wg.Wait()
	flood := time.Since(start)
	after := testpeer.VmRSS(t, cmd.Process.Pid)
	t.Logf("20000 forged IHellos from %d addresses in %v: %d RHellos back; VmRSS %d KiB before, %d KiB after",
		floodSources, flood.Round(time.Millisecond), answered.Load(), before>>10, after>>10)
	if after >= 300<<20 {
		t.Errorf("VmRSS %d MiB after the flood, want < 300 MiB", after>>20)
	}
	if answered.Load() == 0 {
		t.Errorf("no RHello at all during the flood: is RTMFP listening on %d?", udp)
	}

	p := testpeer.Start(t, 20*time.Second, "stdbuf", "-oL", tcconn, "rtmfp://127.0.0.1:"+strconv.Itoa(udp)+"/live#down")
	testwait.ForDetail(t, 15*time.Second, "tcconn to connect after the flood", func() bool {
		return strings.Contains(p.Output(), "onConnect success") || p.Exited()
	}, p.Output)
	if !strings.Contains(p.Output(), "onConnect success") {
		t.Fatalf("tcconn exited without connecting after the flood:\n%s", p.Output())
	}
	p.Interrupt()
	<-p.Done()
	t.Logf("tcconn connected after the flood; VmRSS now %d KiB", testpeer.VmRSS(t, cmd.Process.Pid)>>10)
}
