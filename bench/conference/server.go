package main

import (
	"bytes"
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

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat.
const clockTicks = 100

// server is flashvox under test, a child process on free 127.0.0.1 ports
// with a throw-away configuration (same shape as bench/relay's).
type server struct {
	addr string // RTMP host:port
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// userName is the throw-away account of participant i (password = name,
// accepted because every listener is on loopback).
func userName(i int) string { return fmt.Sprintf("bench%04d", i) }

// writeConfig writes the server's configuration: users for every
// participant, rooms forced mixed, limits raised for the load, log level warn.
func writeConfig(path string, users, rooms, roomSize int) error {
	var b bytes.Buffer
	b.WriteString("log:\n  level: warn\nrtmfp:\n  enabled: false\nusers:\n")
	for i := range users {
		fmt.Fprintf(&b, "  - {name: %s, password: %s}\n", userName(i), userName(i))
	}
	fmt.Fprintf(&b, "conference:\n  mode: mixed\n  max_rooms: %d\n  max_members: %d\n", max(rooms, 1), max(roomSize, 2))
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// startServer starts bin with the config in dir; ctx bounds its life.
func startServer(ctx context.Context, bin, dir string, users, rooms, roomSize int) (*server, error) {
	cfg := filepath.Join(dir, "flashvox.yaml")
	if err := writeConfig(cfg, users, rooms, roomSize); err != nil {
		return nil, err
	}
	rtmpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	httpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, "run", "--config", cfg)
	cmd.Env = append(os.Environ(),
		"FLASHVOX_RTMP_LISTEN=127.0.0.1:"+strconv.Itoa(rtmpPort),
		"FLASHVOX_HTTP_LISTEN=127.0.0.1:"+strconv.Itoa(httpPort),
		"FLASHVOX_RTMP_MAX_CONNECTIONS=100000",
		"FLASHVOX_RTMP_MAX_CONNECTIONS_PER_IP=100000",
		"FLASHVOX_SIP_LISTEN=127.0.0.1:0",
	)
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
		return nil, fmt.Errorf("start flashvox: %w", err)
	}
	s := &server{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(rtmpPort)), cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
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
			return nil, fmt.Errorf("flashvox exited at start (log %s)", logPath)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("flashvox: %s not accepting after 10s (log %s)", s.addr, logPath)
		}
	}
}

// stop sends SIGTERM to the child (by its PID), then SIGKILL after 3 s.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(3 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// cpu is the server's utime+stime so far.
func (s *server) cpu() (time.Duration, error) { return procCPU(strconv.Itoa(s.cmd.Process.Pid)) }

// warnings counts the log lines holding substr (the mixer's "fell behind").
func (s *server) warnings(substr string) int {
	b, err := os.ReadFile(s.log)
	if err != nil {
		return -1
	}
	return strings.Count(string(b), substr)
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

// loadAvg is the first field of /proc/loadavg (other jobs share the machine).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
