package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// server is a relay under test running as a child process, so that its
// CPU and memory can be read from /proc/PID.
type server struct {
	name string
	addr string // 127.0.0.1:port of its RTMP listener
	cmd  *exec.Cmd
	log  string // file holding its stdout and stderr
	done chan struct{}
}

// serverSpec says how to start one kind of server on a given port.
type serverSpec struct {
	name  string
	start func(ctx context.Context, dir string, port int) (*exec.Cmd, error)
}

// flashvoxSpec runs bin; env holds extra comma-separated KEY=VALUE pairs
// (runtime settings such as GOMAXPROCS), which the report prints.
func flashvoxSpec(bin, env string) serverSpec {
	return serverSpec{name: "flashvox", start: func(ctx context.Context, dir string, port int) (*exec.Cmd, error) {
		httpPort, err := freePort()
		if err != nil {
			return nil, err
		}
		cmd := exec.CommandContext(ctx, bin, "run")
		cmd.Env = append(os.Environ(),
			"FLASHVOX_RTMP_LISTEN=127.0.0.1:"+strconv.Itoa(port),
			"FLASHVOX_HTTP_LISTEN=127.0.0.1:"+strconv.Itoa(httpPort),
			"FLASHVOX_RTMP_MAX_CONNECTIONS=100000",
			"FLASHVOX_RTMP_MAX_CONNECTIONS_PER_IP=100000",
			"FLASHVOX_SIP_LISTEN=127.0.0.1:0",
			"FLASHVOX_RTMFP_LISTEN=127.0.0.1:0",
			"FLASHVOX_LOG_LEVEL=warn", // nginx-rtmp below logs nothing per connection either
		)
		if env != "" {
			cmd.Env = append(cmd.Env, strings.Split(env, ",")...)
		}
		return cmd, nil
	}}
}

func nginxSpec(bin, module string) serverSpec {
	return serverSpec{name: "nginx-rtmp", start: func(ctx context.Context, dir string, port int) (*exec.Cmd, error) {
		if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
			return nil, err
		}
		// One worker, no master: the process we start is the one relaying.
		conf := fmt.Sprintf(`load_module %s;
daemon off; master_process off; worker_processes 1;
worker_rlimit_nofile 20000;
pid %[2]s/logs/nginx.pid; error_log %[2]s/logs/error.log;
events { worker_connections 20000; }
rtmp { access_log off; server { listen 127.0.0.1:%d; chunk_size 4096; application live { live on; record off; } } }
`, module, dir, port)
		cf := filepath.Join(dir, "nginx.conf")
		if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
			return nil, err
		}
		return exec.CommandContext(ctx, bin, "-p", dir, "-c", cf), nil
	}}
}

// startServer starts spec on a free port in a fresh directory and waits
// until it accepts connections. ctx bounds its whole life.
func startServer(ctx context.Context, spec serverSpec, dir string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	cmd, err := spec.start(ctx, dir, port)
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "server.log")
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer lf.Close() // the child has its own copy
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 3 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", spec.name, err)
	}
	s := &server{name: spec.name, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(s.done)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.addr, time.Second)
		if err == nil {
			c.Close()
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("%s exited at start (log %s)", spec.name, logPath)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("%s: %s not accepting after 10s (log %s)", spec.name, s.addr, logPath)
		}
	}
}

// stop sends SIGTERM to the child (by its PID), then SIGKILL after 3 s.
func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(3 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// sample is a reading of a process's CPU time and resident memory.
type sample struct {
	at  time.Time
	cpu time.Duration
	rss int64
}

func readSample(pid int) (sample, error) {
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return sample{}, err
	}
	cpu, err := parseCPU(string(st))
	if err != nil {
		return sample{}, err
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return sample{}, err
	}
	rss, err := parseRSS(string(status))
	if err != nil {
		return sample{}, err
	}
	return sample{at: time.Now(), cpu: cpu, rss: rss}, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// perfRecord runs `perf record` on pid until ctx ends (opt-in profiling of
// the server during the measurement window).
func perfRecord(ctx context.Context, pid int, out string) (wait func() error, err error) {
	cmd := exec.CommandContext(ctx, "perf", "record", "-g", "-F", "499", "-p", strconv.Itoa(pid), "-o", out)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return func() error {
		err := cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) || errors.Is(err, context.Canceled) {
			return nil // perf exits non-zero on SIGINT
		}
		return err
	}, nil
}
