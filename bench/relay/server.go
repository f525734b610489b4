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

	"github.com/flashvox/flashvox/bench/internal/proc"
)

// server is a relay under test running as a child process, so that its
// CPU and memory can be read from /proc/PID.
type server struct {
	*proc.Child
	addr string // 127.0.0.1:port of its RTMP listener
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
		httpPort, err := proc.FreePort()
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
	port, err := proc.FreePort()
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
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	c, err := proc.StartLogged(cmd, spec.name, addr, syscall.SIGTERM, filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	return &server{Child: c, addr: addr}, nil
}

// sample is a reading of a process's CPU time, resident memory and
// context switches, with the machine's load average at that moment.
type sample struct {
	at   time.Time
	cpu  time.Duration
	rss  int64
	sw   proc.Switches
	load string
}

func readSample(pid int) (sample, error) {
	cpu, err := proc.CPU(pid)
	if err != nil {
		return sample{}, err
	}
	rss, err := proc.RSS(pid)
	if err != nil {
		return sample{}, err
	}
	return sample{at: time.Now(), cpu: cpu, rss: rss, sw: proc.ReadSwitches(pid), load: proc.LoadAvg()}, nil
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
