package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat.
const clockTicks = 100

// server is one RTMFP server under test, running as a child process.
type server struct {
	name       string
	cmd        *exec.Cmd
	done       chan struct{}
	rtmfpURI   string // rtmfp://127.0.0.1:UDP/live
	rtmpURL    string // rtmp://127.0.0.1:TCP/live
	metricsURL string // Prometheus metrics, "" for tcserver
}

// startServer starts bin with args and env, bounded by ctx, and waits
// until its RTMP port accepts connections.
func startServer(ctx context.Context, name string, udp, rtmpPort int, env []string, bin string, args ...string) (*server, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
	cmd.WaitDelay = 3 * time.Second
	logf, err := os.CreateTemp("", "bench-rtmfp-"+name+"-*.log")
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	s := &server{name: name, cmd: cmd, done: make(chan struct{}),
		rtmfpURI: fmt.Sprintf("rtmfp://127.0.0.1:%d/live", udp), rtmpURL: fmt.Sprintf("rtmp://127.0.0.1:%d/live", rtmpPort)}
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(s.done)
	}()
	if err := waitTCP(fmt.Sprintf("127.0.0.1:%d", rtmpPort), 10*time.Second, s.done); err != nil {
		s.stop()
		return nil, fmt.Errorf("%s: %w (log: %s)", name, err, logf.Name())
	}
	return s, nil
}

// stop interrupts the server (SIGINT, then SIGKILL after 3 s) and waits.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
	case <-time.After(3 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// cpu is the server's utime+stime so far.
func (s *server) cpu() (time.Duration, error) { return procCPU(strconv.Itoa(s.cmd.Process.Pid)) }

// selfCPU is this process's utime+stime so far.
func selfCPU() (time.Duration, error) { return procCPU("self") }

// metrics returns the lines of the Prometheus text at url that start with
// prefix, or the error.
func metrics(url, prefix string) string {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return err.Error()
	}
	var out []string
	for line := range strings.Lines(string(b)) {
		if strings.HasPrefix(line, prefix) {
			out = append(out, strings.TrimSpace(line))
		}
	}
	return strings.Join(out, "; ")
}

func procCPU(pid string) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, err
	}
	stat := string(b)
	i := strings.LastIndexByte(stat, ')') // the command name may hold spaces
	if i < 0 {
		return 0, errors.New("stat: no ')'")
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("stat: %d fields after comm", len(f))
	}
	u, err := strconv.ParseUint(f[11], 10, 64) // field 14
	if err != nil {
		return 0, err
	}
	st, err := strconv.ParseUint(f[12], 10, 64) // field 15
	if err != nil {
		return 0, err
	}
	return time.Duration(u+st) * time.Second / clockTicks, nil
}

// rss is the server's VmRSS in bytes.
func (s *server) rss() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) != 2 || f[1] != "kB" {
				return 0, fmt.Errorf("odd VmRSS line %q", line)
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("status: no VmRSS")
}

func freeTCP() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func freeUDP() (int, error) {
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return 0, err
	}
	defer pc.Close()
	return pc.LocalAddr().(*net.UDPAddr).Port, nil
}

func waitTCP(addr string, within time.Duration, exited <-chan struct{}) error {
	deadline := time.Now().Add(within)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			return c.Close()
		}
		select {
		case <-exited:
			return errors.New("exited before listening")
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not listening: %w", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
