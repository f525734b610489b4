package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/flashvox/flashvox/bench/internal/proc"
)

// server is flashvox under test: a child process on free 127.0.0.1 ports
// with a throw-away configuration.
type server struct {
	*proc.Child
	rtmp, http, sip string // host:port
}

// users of the normal load; password = name (loopback only).
func userList(o options) []string {
	var u []string
	for i := range o.calls {
		u = append(u, fmt.Sprintf("calla%d", i), fmt.Sprintf("callb%d", i))
	}
	for i := range o.members {
		u = append(u, fmt.Sprintf("member%d", i))
	}
	for i := range o.sipCalls {
		u = append(u, fmt.Sprintf("sip%d", i))
	}
	return u
}

// writeConfig keeps the security defaults (apps list, transcode: token,
// throttles, per-address caps, pre-connect budgets) and changes only the
// ports, the users, a mixed conference, MD5 digest (sipp 3.6.1 answers the
// first challenge only) and an RTP port range of its own.
func writeConfig(path string, o options, s *server, rtpBase int) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "log: {level: warn}\nrtmfp: {enabled: false}\n")
	fmt.Fprintf(&b, "rtmp: {listen: %q}\nhttp: {listen: %q}\n", s.rtmp, s.http)
	fmt.Fprintf(&b, "sip:\n  listen: %q\n  digest_algorithms: [MD5]\n  rtp_ports: %d-%d\n  rtp_timeout: 10s\n", s.sip, rtpBase, rtpBase+199)
	// No trunk: 127.0.0.1 would be a trunk's address, whose calls need no login.
	b.WriteString("  trunks: []\n  dialplan: []\n")
	b.WriteString("  inbound:\n    - {number: \"15550000\", target: echo}\n")
	b.WriteString("users:\n")
	for _, u := range userList(o) {
		fmt.Fprintf(&b, "  - {name: %s, password: %s}\n", u, u)
	}
	b.WriteString("conference: {mode: mixed}\n")
	b.WriteString("apps:\n  - {name: live, publish: open, play: open, transcode: token}\n  - {name: phone}\n  - {name: sip}\n")
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// startServer starts bin with a config in dir; ctx bounds its life.
func startServer(ctx context.Context, bin, dir string, o options) (*server, error) {
	s := &server{}
	for _, a := range []*string{&s.rtmp, &s.http, &s.sip} {
		var err error
		if *a, err = proc.FreeAddr(); err != nil {
			return nil, err
		}
	}
	cfg := filepath.Join(dir, "flashvox.yaml")
	if err := writeConfig(cfg, o, s, 30000+2*(os.Getpid()%5000)); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, "run", "--config", cfg)
	c, err := proc.StartLogged(cmd, "flashvox", s.rtmp, syscall.SIGTERM, filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	s.Child = c
	return s, nil
}

// fds is the number of the process's open file descriptors.
func fds(pid int) int {
	e, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		return -1
	}
	return len(e)
}

// metrics returns the server's counters and gauges by full name (labels
// included), summing nothing.
func (s *server) metrics() map[string]float64 {
	m := map[string]float64{}
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get("http://" + s.http + "/metrics")
	if err != nil {
		return m
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	for line := range strings.Lines(string(b)) {
		if strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		if v, err := strconv.ParseFloat(f[1], 64); err == nil {
			m[f[0]] = v
		}
	}
	return m
}

// sample is the server's state at one second.
type sample struct {
	at      time.Duration // since the start
	rss     int64         // VmRSS
	anon    int64         // RssAnon: the process's own memory (heap, stacks, C allocations)
	fileRSS int64         // RssFile: pages of the binary and libraries mapped in so far
	fds     int
}

// statusKB reads fields (in kB) of /proc/PID/status, in bytes.
func statusKB(pid int, names ...string) ([]int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return nil, err
	}
	out := make([]int64, len(names))
	for line := range strings.Lines(string(b)) {
		for i, n := range names {
			rest, ok := strings.CutPrefix(line, n+":")
			if !ok {
				continue
			}
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				v, err := strconv.ParseInt(f[0], 10, 64)
				if err != nil {
					return nil, err
				}
				out[i] = v << 10
			}
		}
	}
	return out, nil
}

// sampler reads RSS and open fds from /proc every second.
type sampler struct {
	mu      sync.Mutex
	samples []sample
}

func (sp *sampler) run(ctx context.Context, pid int, start time.Time) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		v, err := statusKB(pid, "VmRSS", "RssAnon", "RssFile")
		if err == nil {
			sp.mu.Lock()
			sp.samples = append(sp.samples, sample{time.Since(start), v[0], v[1], v[2], fds(pid)})
			sp.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (sp *sampler) all() []sample {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return append([]sample(nil), sp.samples...)
}

// median is the median of field of the samples taken in [from, to).
func median(ss []sample, from, to time.Duration, field func(sample) int64) int64 {
	var v []int64
	for _, s := range ss {
		if s.at >= from && s.at < to {
			v = append(v, field(s))
		}
	}
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return v[len(v)/2]
}
