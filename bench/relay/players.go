package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/flashvox/flashvox/bench/internal/proc"
)

// The real-player load (-players): ffmpeg publishers copying a Nellymoser
// FLV in real time (-re -stream_loop -1 -c copy) and rtmpdump players
// writing what they receive to files (--live -o -, counted): the clients users
// run, with their own chunking, acknowledgements and pacing, beside the
// lean Go load. Bytes delivered are the players' files' growth over the
// window (rtmpdump writes to a pipe that counts them, in stdio blocks of
// 4 KiB set with coreutils' stdbuf: the figure's resolution per player);
// latency is not measured (FLV carries no send times).

// playersResult is what one server did under the real-player load.
type playersResult struct {
	serverCPU time.Duration
	window    time.Duration
	bytes     int64 // written by every player during the window
	ended     int   // players or publishers that exited early
	sw        proc.Switches
	load      string // load average at the window's start and end
}

// makeToneFLV writes a 10 s 16 kHz Nellymoser tone with ffmpeg.
func makeToneFLV(ctx context.Context, dir string) (string, error) {
	out := filepath.Join(dir, "tone.flv")
	cmd := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000:duration=10",
		"-c:a", "nellymoser", "-ar", "16000", "-ac", "1", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("ffmpeg tone: %w: %s (apt-get install -y ffmpeg)", err, b)
	}
	return out, nil
}

// runPlayers runs p ffmpeg publishers and p×s rtmpdump players against srv
// and measures the server's CPU and the bytes delivered over the window.
// perfOut, when set, records the server with perf over the window.
func runPlayers(ctx context.Context, srv *server, cfg loadConfig, flv, perfOut string) (*playersResult, error) {
	if _, err := exec.LookPath("rtmpdump"); err != nil {
		return nil, fmt.Errorf("%w (apt-get install -y rtmpdump)", err)
	}
	var procs []*exec.Cmd
	var mu sync.Mutex
	ended := 0
	var delivered counter
	start := func(name string, args ...string) error {
		cmd := exec.CommandContext(ctx, name, args...)
		if name == "stdbuf" {
			cmd.Stdout = &delivered
		}
		cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
		cmd.WaitDelay = 2 * time.Second
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		procs = append(procs, cmd)
		go func() {
			_ = cmd.Wait()
			mu.Lock()
			ended++
			mu.Unlock()
		}()
		return nil
	}
	defer func() {
		for _, c := range procs {
			_ = c.Process.Signal(syscall.SIGTERM)
		}
		for _, c := range procs {
			_, _ = c.Process.Wait()
		}
	}()
	for i := range cfg.publishers {
		url := fmt.Sprintf("rtmp://%s/live/p%d", srv.addr, i)
		if err := start("ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re", "-stream_loop", "-1",
			"-i", flv, "-c", "copy", "-f", "flv", url); err != nil {
			return nil, err
		}
		for range cfg.subscribers {
			// stdbuf: rtmpdump's stdout in 4 KiB blocks, not 64 KiB,
			// so that the bytes counted over a window are exact to
			// 4 KiB per player (a player gets 5 KB/s).
			if err := start("stdbuf", "-o4096", "rtmpdump", "-q", "--live", "-r", url, "-o", "-"); err != nil {
				return nil, errors.Join(err, errors.New("stdbuf is coreutils'"))
			}
		}
	}
	if err := sleepCtx(ctx, cfg.warmup); err != nil {
		return nil, err
	}
	mu.Lock()
	early := ended
	mu.Unlock()
	s0, err := readSample(srv.PID())
	if err != nil {
		return nil, err
	}
	b0 := delivered.n.Load()
	var perfWait func() error
	if perfOut != "" {
		pctx, pcancel := context.WithTimeout(ctx, cfg.duration-cfg.warmup)
		defer pcancel()
		if perfWait, err = perfRecord(pctx, srv.PID(), perfOut); err != nil {
			return nil, fmt.Errorf("perf: %w", err)
		}
	}
	if err := sleepCtx(ctx, cfg.duration-cfg.warmup); err != nil {
		return nil, err
	}
	s1, err := readSample(srv.PID())
	if err != nil {
		return nil, err
	}
	if perfWait != nil {
		if err := perfWait(); err != nil {
			return nil, fmt.Errorf("perf: %w", err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	return &playersResult{serverCPU: s1.cpu - s0.cpu, window: s1.at.Sub(s0.at), bytes: delivered.n.Load() - b0, ended: max(ended, early),
		sw: s1.sw.Sub(s0.sw), load: s0.load + "–" + s1.load}, nil
}

// counter counts what the players write to their standard output.
type counter struct{ n atomic.Int64 }

func (c *counter) Write(p []byte) (int, error) {
	c.n.Add(int64(len(p)))
	return len(p), nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// playersReport is the side-by-side table of the real-player load.
func playersReport(o options, names []string, rs []*playersResult) string {
	s := fmt.Sprintf("\nReal players: %d ffmpeg publishers (-re -c copy, Nellymoser 16 kHz) × %d rtmpdump players each (--live -o -, counted)\n\n",
		o.load.publishers, o.load.subscribers)
	s += "| | " + names[0]
	for _, n := range names[1:] {
		s += " | " + n
	}
	s += " |\n|---|" + repeat("---:|", len(names)) + "\n"
	row := func(label string, f func(r *playersResult) string) {
		s += "| " + label
		for _, r := range rs {
			s += " | " + f(r)
		}
		s += " |\n"
	}
	row("server CPU in window, s", func(r *playersResult) string { return fmt.Sprintf("%.2f", r.serverCPU.Seconds()) })
	row("window, s", func(r *playersResult) string { return fmt.Sprintf("%.1f", r.window.Seconds()) })
	row("bytes delivered to players", func(r *playersResult) string { return fmt.Sprintf("%d", r.bytes) })
	row("server CPU per MB delivered, ms", func(r *playersResult) string { return fmt.Sprintf("%.1f", cpuPerMB(r)) })
	row("clients that exited early", func(r *playersResult) string { return fmt.Sprintf("%d", r.ended) })
	row("server sleeps + preemptions per published frame", func(r *playersResult) string { return perFrame(r.sw, o.load.publishers, r.window) })
	row("load average over the window", func(r *playersResult) string { return r.load })
	if len(rs) == 2 && rs[1].serverCPU > 0 && rs[1].bytes > 0 {
		s += fmt.Sprintf("\nCPU ratio %s / %s: %.2f×; bytes ratio %.3f; CPU per byte ratio %.2f×\n", names[0], names[1],
			rs[0].serverCPU.Seconds()/rs[1].serverCPU.Seconds(), float64(rs[0].bytes)/float64(rs[1].bytes), cpuPerMB(rs[0])/cpuPerMB(rs[1]))
	}
	return s
}

// cpuPerMB is the server's CPU milliseconds per MB (10^6 bytes) the
// players wrote: when a loaded machine makes the servers' windows deliver
// different amounts (a backlog flushed into one window), CPU alone
// misleads.
func cpuPerMB(r *playersResult) float64 {
	if r.bytes <= 0 {
		return 0
	}
	return float64(r.serverCPU.Milliseconds()) / (float64(r.bytes) / 1e6)
}

func repeat(s string, n int) (out string) {
	for range n {
		out += s
	}
	return out
}
