package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

func TestConfigAndVersionCommands(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"config"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "listen: 127.0.0.1:1935") {
		t.Fatalf("config: code %d out %q", code, out.String())
	}
	out.Reset()
	if code := run([]string{"version"}, &out, &errb); code != 0 || !strings.Contains(out.String(), runtime.Version()) {
		t.Fatalf("version: code %d out %q", code, out.String())
	}
	if code := run([]string{"bogus"}, io.Discard, io.Discard); code != exitConfig {
		t.Fatalf("unknown command: code %d", code)
	}
}

func TestBadConfigExitsTwo(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(p, []byte("rtmp:\n  chunk_size: 64\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	if code := run([]string{"run", "--config", p}, io.Discard, &errb); code != exitConfig {
		t.Fatalf("code %d, stderr %q", code, errb.String())
	}
	if !strings.Contains(errb.String(), "rtmp.chunk_size: must be 128..16777216") {
		t.Fatalf("error must name the key: %q", errb.String())
	}
}

// freeAddr is a 127.0.0.1 address from internal/test/freeport: outside
// the ephemeral range, so the child's own :0 binds (SIP, RTMFP) cannot
// take it between our check and its bind.
func freeAddr(t *testing.T) string {
	t.Helper()
	return "127.0.0.1:" + strconv.Itoa(testpeer.FreePort(t))
}

// TestServeHealthAndGracefulStop runs the real binary: it must answer
// /healthz, and exit 0 within 5 s of SIGTERM with a client still connected.
func TestServeHealthAndGracefulStop(t *testing.T) {
	bin := testpeer.Flashvox(t)
	rtmpAddr, httpAddr := freeAddr(t), freeAddr(t)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "FLASHVOX_RTMP_LISTEN="+rtmpAddr, "FLASHVOX_HTTP_LISTEN="+httpAddr, "FLASHVOX_SIP_LISTEN=127.0.0.1:0", "FLASHVOX_RTMFP_LISTEN=127.0.0.1:0", "FLASHVOX_LOG_FORMAT=json")
	logs := &testpeer.Buffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	testwait.ForDetail(t, 15*time.Second, "healthz ready", func() bool {
		resp, err := http.Get(fmt.Sprintf("http://%s/healthz", httpAddr))
		if err != nil {
			return false
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode == 200 && strings.Contains(string(body), `"rtmp":"ok"`)
	}, logs.String)
	idle, err := net.Dial("tcp", rtmpAddr) // a connection that never handshakes
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()

	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, logs.String())
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("stopped after %s", d)
		}
	case <-time.After(6 * time.Second):
		t.Fatalf("did not stop within 5 s of SIGTERM\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), `"msg":"flashvox stopped"`) {
		t.Fatalf("logs must be JSON and end with the stop line:\n%s", logs.String())
	}
}
