// Package testpeer starts real peers (ffmpeg, rtmpdump, nginx-rtmp, …) as
// processes on 127.0.0.1 for integration tests. A missing peer fails the test
// with the command that installs it; it is never skipped.
package testpeer

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/freeport"
)

// Debian package providing each peer binary.
var packages = map[string]string{
	"ffmpeg":   "ffmpeg",
	"ffprobe":  "ffmpeg",
	"rtmpdump": "rtmpdump",
	"nginx":    "nginx-light libnginx-mod-rtmp",
	"sox":      "sox",
	"sipp":     "sip-tester",
	"baresip":  "baresip",
	"svwar":    "sipvicious",
	"svcrack":  "sipvicious",
	"haxe":     "haxe",
	"chromium": "chromium",
	"script":   "bsdutils",
}

// SkipShort skips t under go test -short, the fast path that runs no
// external peer; make test runs without -short, where a missing peer fails.
// what names what the test needs ("ffmpeg", "real SIP traffic").
func SkipShort(t testing.TB, what string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("needs %s: not run under -short (make test runs it)", what)
	}
}

// Require returns the path of bin or fails the test with the install
// command; under -short it skips the test (SkipShort).
func Require(t testing.TB, bin string) string {
	t.Helper()
	SkipShort(t, bin)
	p, err := exec.LookPath(bin)
	if err != nil {
		pkg := packages[bin]
		if pkg == "" {
			pkg = bin
		}
		t.Fatalf("%s is required for this test and is missing: apt-get install -y %s (or make deps)", bin, pkg)
	}
	return p
}

// Proc is a running peer. Its output is captured for failure messages.
type Proc struct {
	Name string
	cmd  *exec.Cmd
	out  *Buffer
	done chan struct{}
	err  error
}

// Start runs bin with args, bounded by timeout, and stops it (by its PID,
// with SIGINT then SIGKILL) when the test ends.
func Start(t testing.TB, timeout time.Duration, bin string, args ...string) *Proc {
	t.Helper()
	path := Require(t, bin)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
	cmd.WaitDelay = 3 * time.Second
	cmd.Stdin = nil
	out := &Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", bin, err)
	}
	p := &Proc{Name: bin, cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		cancel()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("%s output:\n%s", bin, tail(out.String(), 4000))
		}
	})
	return p
}

// Wait waits for the process to exit by itself (or its timeout).
func (p *Proc) Wait() error {
	<-p.done
	return p.err
}

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Interrupt sends SIGINT (ffmpeg and rtmpdump finish their files on it).
func (p *Proc) Interrupt() { _ = p.cmd.Process.Signal(syscall.SIGINT) }

// Kill sends SIGKILL.
func (p *Proc) Kill() { _ = p.cmd.Process.Kill() }

// Stop interrupts the process and waits, killing it after 3 s.
func (p *Proc) Stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.Interrupt()
	select {
	case <-p.done:
	case <-time.After(3 * time.Second):
		p.Kill()
		<-p.done
	}
}

// Output is everything the process printed so far.
func (p *Proc) Output() string { return p.out.String() }

// Run runs a peer to completion and returns its combined output.
func Run(t testing.TB, timeout time.Duration, bin string, args ...string) (string, error) {
	t.Helper()
	p := Start(t, timeout, bin, args...)
	err := p.Wait()
	return p.Output(), err
}

// FreePort returns a port on 127.0.0.1, free for TCP and UDP and held for
// this test until it ends, for peers that cannot take port 0 themselves
// (nginx, sipp, baresip, tcserver): see package freeport.
func FreePort(t testing.TB) int {
	t.Helper()
	return FreePorts(t, 1, 1)
}

// FreePorts is FreePort for n consecutive ports from a multiple of align.
func FreePorts(t testing.TB, n, align int) int {
	t.Helper()
	p, release, err := freeport.Reserve(n, align)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release)
	return p
}

// WaitTCP waits until addr accepts connections.
func WaitTCP(t testing.TB, addr string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not accept connections within %s: %v", addr, within, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Nginx starts nginx-rtmp (the reference relay) with `application live` on a
// free port and returns that port.
func Nginx(t testing.TB, timeout time.Duration) int {
	t.Helper()
	Require(t, "nginx")
	module := ""
	for _, p := range []string{"/usr/lib/nginx/modules/ngx_rtmp_module.so", "/usr/share/nginx/modules/ngx_rtmp_module.so"} {
		if _, err := os.Stat(p); err == nil {
			module = p
		}
	}
	if module == "" {
		t.Fatal("ngx_rtmp_module.so not found: apt-get install -y libnginx-mod-rtmp")
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	port := FreePort(t)
	conf := fmt.Sprintf(`load_module %s;
daemon off; master_process off; worker_processes 1;
pid %s/logs/nginx.pid; error_log %s/logs/error.log;
events { worker_connections 4096; }
rtmp { server { listen 127.0.0.1:%d; chunk_size 4096; application live { live on; record off; } } }
`, module, dir, dir, port)
	cf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	Start(t, timeout, "nginx", "-p", dir, "-c", cf)
	WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
	return port
}

// Buffer collects a process's output; safe to read while it is written.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p, keeping the first MiB.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 1<<20 { // keep the head; peers can be chatty
		return len(p), nil
	}
	return s.b.Write(p)
}

// String is everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
