// Command bench-rtmfp measures flashvox's RTMFP server beside rtmfp-cpp's
// tcserver in one run: handshakes per second, CPU for N RTMFP
// players of one voice stream (published by ffmpeg over RTMP, Nellymoser
// 16 kHz) and memory per idle session (VmRSS delta / sessions). Both
// servers are child processes on free 127.0.0.1 ports; the clients are
// package rtmfp's initiator, in this process. Each phase is bounded (≤ 30 s)
// and the run ends by itself.
//
//	bench/rtmfp.sh                     # builds everything, runs the defaults
//	bin/bench-rtmfp -flashvox bin/flashvox -tools ~/.cache/flashvox/rtmfp-tools -players 200
//	bin/bench-rtmfp -phases players -perf /tmp/fv.perf   # the players phase only, flashvox under perf record
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/flashvox/flashvox/bench/internal/proc"
)

type options struct {
	flashvox    string
	tools       string
	tcArgs      string
	players     int
	idle        int
	window      time.Duration
	hsWindow    time.Duration
	hsWorkers   int
	dialWorkers int
	logLevel    string
	phases      map[string]bool
	perfOut     string
}

func main() {
	var o options
	cache, _ := os.UserCacheDir()
	flag.StringVar(&o.flashvox, "flashvox", "bin/flashvox", "flashvox binary")
	flag.StringVar(&o.tools, "tools", filepath.Join(cache, "flashvox", "rtmfp-tools"), "directory with rtmfp-cpp's tcserver")
	flag.StringVar(&o.tcArgs, "tcserver-flags", "-H -S", "extra tcserver flags (-H -S: HMAC and sequence numbers not required, like flashvox's defaults)")
	flag.IntVar(&o.players, "players", 200, "RTMFP players of the voice stream")
	flag.IntVar(&o.idle, "idle", 200, "idle sessions for the memory figure")
	flag.DurationVar(&o.window, "window", 20*time.Second, "CPU measurement window with the players on (≤ 30s)")
	flag.DurationVar(&o.hsWindow, "hs-window", 10*time.Second, "handshake measurement window (≤ 30s)")
	flag.IntVar(&o.hsWorkers, "hs-workers", 8, "concurrent dialers in the handshake phase")
	flag.IntVar(&o.dialWorkers, "dial-workers", 8, "concurrent dialers when opening players and idle sessions")
	flag.StringVar(&o.logLevel, "log-level", "warn", "flashvox's log level (its log goes to a temporary file)")
	phases := flag.String("phases", "idle,players,handshakes", "phases to run, comma-separated")
	flag.StringVar(&o.perfOut, "perf", "", "record flashvox with `perf record -g` during the players window into this file (needs perf)")
	flag.Parse()
	o.phases = map[string]bool{}
	for _, p := range strings.Split(*phases, ",") {
		switch p = strings.TrimSpace(p); p {
		case "idle", "players", "handshakes":
			o.phases[p] = true
		default:
			log.Fatalf("unknown phase %q (idle, players, handshakes)", p)
		}
	}
	o.window = min(o.window, 30*time.Second)
	o.hsWindow = min(o.hsWindow, 30*time.Second)
	if err := run(o); err != nil {
		log.Fatal(err)
	}
}

// result is one server's figures.
type result struct {
	rssStart      int64
	idleRSS       int64    // VmRSS delta for o.idle idle sessions
	playersCPU    float64  // CPU seconds per second (1.0 = one core) with the players on
	audioRate     float64  // audio messages per second per player, delivered
	hs, hsPerDial hsResult // one identity for every dial; a new one per dial
}

// hsResult is one handshake phase's figures.
type hsResult struct {
	ok, fail int64
	cpu      time.Duration // server CPU during the window
	selfCPU  time.Duration // this process's (the dialers') CPU in the window
	metrics  string        // the server's own handshake counters, when it has them
	p50, p99 time.Duration // Dial's duration
	slow     int           // dials that took ≥ 500 ms (a lost or refused packet: retried after 1 s)
}

func run(o options) error {
	tcserver := filepath.Join(o.tools, "tcserver")
	if st, err := os.Stat(tcserver); err != nil || st.Mode()&0o111 == 0 {
		return fmt.Errorf("no tcserver in %s: run internal/test/testpeer/rtmfp/rtmfp-tools.sh %s (needs apt-get install -y g++ make libssl-dev)", o.tools, o.tools)
	}
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		return errors.New("ffmpeg is missing: apt-get install -y ffmpeg")
	}
	// The whole run: three phases per server, each bounded.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	fv, err := startFlashvox(ctx, o.flashvox, o.logLevel)
	if err != nil {
		return err
	}
	defer fv.Stop()
	tc, err := startTCServer(ctx, tcserver, o.tcArgs)
	if err != nil {
		return err
	}
	defer tc.Stop()
	servers := []*server{fv, tc}
	res := map[*server]*result{fv: {}, tc: {}}

	for _, s := range servers {
		if !o.phases["idle"] {
			break
		}
		log.Printf("%s: memory, %d idle sessions", s.Name, o.idle)
		if err := idlePhase(ctx, s, o, res[s]); err != nil {
			return fmt.Errorf("%s idle: %w", s.Name, err)
		}
	}
	for _, s := range servers {
		if !o.phases["players"] {
			break
		}
		log.Printf("%s: CPU, %d players for %v (pid %d)", s.Name, o.players, o.window, s.PID())
		if err := playersPhase(ctx, s, o, res[s]); err != nil {
			return fmt.Errorf("%s players: %w", s.Name, err)
		}
	}
	for _, s := range servers {
		if !o.phases["handshakes"] {
			break
		}
		log.Printf("%s: handshakes for %v, %d dialers", s.Name, o.hsWindow, o.hsWorkers)
		if err := handshakePhase(ctx, s, o, false, &res[s].hs); err != nil {
			return fmt.Errorf("%s handshakes: %w", s.Name, err)
		}
		log.Printf("%s: handshakes for %v, a new identity per dial", s.Name, o.hsWindow)
		if err := handshakePhase(ctx, s, o, true, &res[s].hsPerDial); err != nil {
			return fmt.Errorf("%s handshakes: %w", s.Name, err)
		}
	}
	report(os.Stdout, o, res[fv], res[tc])
	return nil
}

func startFlashvox(ctx context.Context, bin, logLevel string) (*server, error) {
	udp, err := proc.FreePort()
	if err != nil {
		return nil, err
	}
	rtmpPort, err := proc.FreePort()
	if err != nil {
		return nil, err
	}
	httpPort, err := proc.FreePort()
	if err != nil {
		return nil, err
	}
	// Every client is on 127.0.0.1: lift the per-address limits, which
	// are for the Internet, not for a benchmark.
	s, err := startServer(ctx, "flashvox", udp, rtmpPort, []string{
		"FLASHVOX_RTMFP_ENABLED=true",
		"FLASHVOX_RTMFP_LISTEN=127.0.0.1:" + strconv.Itoa(udp),
		"FLASHVOX_RTMP_LISTEN=127.0.0.1:" + strconv.Itoa(rtmpPort),
		"FLASHVOX_HTTP_LISTEN=127.0.0.1:" + strconv.Itoa(httpPort),
		"FLASHVOX_SIP_LISTEN=127.0.0.1:0",
		"FLASHVOX_RTMFP_MAX_SESSIONS=100000",
		"FLASHVOX_RTMFP_MAX_SESSIONS_PER_IP=100000",
		"FLASHVOX_RTMFP_HANDSHAKES_PER_SECOND=1000000",
		"FLASHVOX_LOG_LEVEL=" + logLevel,
	}, bin, "run")
	if err != nil {
		return nil, err
	}
	s.metricsURL = "http://127.0.0.1:" + strconv.Itoa(httpPort) + "/metrics"
	return s, nil
}

func startTCServer(ctx context.Context, bin, flags string) (*server, error) {
	udp, err := proc.FreePort()
	if err != nil {
		return nil, err
	}
	rtmpPort, err := proc.FreePort()
	if err != nil {
		return nil, err
	}
	args := []string{"-B", "127.0.0.1:" + strconv.Itoa(udp), "-b", "127.0.0.1:" + strconv.Itoa(rtmpPort)}
	args = append(args, strings.Fields(flags)...)
	return startServer(ctx, "tcserver", udp, rtmpPort, nil, bin, args...)
}

// idlePhase opens o.idle connected sessions and reads the RSS they added.
func idlePhase(ctx context.Context, s *server, o options, r *result) error {
	before, err := s.RSS()
	if err != nil {
		return err
	}
	r.rssStart = before
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cls, err := dialMany(pctx, s.rtmfpURI, o.idle, o.dialWorkers)
	if err != nil {
		return err
	}
	defer closeAll(cls)
	sleepCtx(pctx, 3*time.Second) // let the server settle (acks, GC)
	after, err := s.RSS()
	if err != nil {
		return err
	}
	r.idleRSS = after - before
	return nil
}

// playersPhase publishes a Nellymoser tone over RTMP with ffmpeg, opens
// o.players RTMFP players of it and measures the server's CPU over o.window.
func playersPhase(ctx context.Context, s *server, o options, r *result) error {
	pctx, cancel := context.WithTimeout(ctx, o.window+30*time.Second)
	defer cancel()
	ff := exec.CommandContext(pctx, "ffmpeg", "-hide_banner", "-loglevel", "error", "-re",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000", "-t", strconv.Itoa(int(o.window.Seconds())+25),
		"-c:a", "nellymoser", "-ar", "16000", "-ac", "1", "-f", "flv", s.rtmpURL+"/voice")
	ff.Stderr = os.Stderr
	if err := ff.Start(); err != nil {
		return err
	}
	defer func() { _ = ff.Process.Kill(); _ = ff.Wait() }()
	cls, err := dialMany(pctx, s.rtmfpURI, o.players, o.dialWorkers)
	if err != nil {
		return err
	}
	defer closeAll(cls)
	for i, cl := range cls {
		if err := cl.play(pctx, "voice"); err != nil {
			return fmt.Errorf("player %d: %w", i, err)
		}
	}
	// Wait until every player hears the stream (≤ 10 s).
	deadline := time.Now().Add(10 * time.Second)
	for {
		silent := 0
		for _, cl := range cls {
			if cl.audio.Load() == 0 {
				silent++
			}
		}
		if silent == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d players got no audio within 10 s", silent, len(cls))
		}
		sleepCtx(pctx, 100*time.Millisecond)
	}
	sleepCtx(pctx, time.Second)
	var audio0 int64
	for _, cl := range cls {
		audio0 += cl.audio.Load()
	}
	cpu0, err := s.CPU()
	if err != nil {
		return err
	}
	t0 := time.Now()
	var perf *exec.Cmd
	if o.perfOut != "" && s.metricsURL != "" { // flashvox only
		perf = exec.CommandContext(pctx, "perf", "record", "-F", "499", "-g", "-o", o.perfOut,
			"-p", strconv.Itoa(s.PID()), "--", "sleep", strconv.Itoa(int(o.window.Seconds())))
		perf.Stderr = os.Stderr
		if err := perf.Start(); err != nil {
			return fmt.Errorf("perf: %w (apt-get install -y linux-perf)", err)
		}
	}
	sleepCtx(pctx, o.window)
	cpu1, err := s.CPU()
	if err != nil {
		return err
	}
	wall := time.Since(t0)
	var audio1 int64
	for _, cl := range cls {
		audio1 += cl.audio.Load()
	}
	if perf != nil {
		_ = perf.Wait()
	}
	r.playersCPU = (cpu1 - cpu0).Seconds() / wall.Seconds()
	r.audioRate = float64(audio1-audio0) / float64(len(cls)) / wall.Seconds()
	return pctx.Err()
}

// handshakePhase dials and closes sessions for o.hsWindow.
func handshakePhase(ctx context.Context, s *server, o options, perDial bool, r *hsResult) error {
	cpu0, err := s.CPU()
	if err != nil {
		return err
	}
	self0, err := proc.SelfCPU()
	if err != nil {
		return err
	}
	var lat []time.Duration
	r.ok, r.fail, lat = handshakes(ctx, s.rtmfpURI, o.hsWorkers, o.hsWindow, perDial)
	cpu1, err := s.CPU()
	if err != nil {
		return err
	}
	self1, err := proc.SelfCPU()
	if err != nil {
		return err
	}
	r.cpu, r.selfCPU = cpu1-cpu0, self1-self0
	if len(lat) > 0 {
		slices.Sort(lat)
		r.p50, r.p99 = lat[len(lat)/2], lat[len(lat)*99/100]
		r.slow = len(lat) - sort.Search(len(lat), func(i int) bool { return lat[i] >= 500*time.Millisecond })
	}
	if s.metricsURL != "" {
		r.metrics = proc.Metrics(s.metricsURL, "flashvox_rtmfp_handshakes_")
	}
	if r.ok == 0 {
		return fmt.Errorf("no handshake succeeded (%d failed)", r.fail)
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
