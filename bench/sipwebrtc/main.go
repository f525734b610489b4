// Command sipwebrtc benchmarks browser ↔ SIP calls: it starts a server
// child (this program with -serve: flashvox's hub, transcoders, call
// service, SIP bridge and WebRTC edge in one process, server.go) and
// places -calls calls, each a lean SIP phone (sipgo signalling, a plain
// UDP socket for RTP) dialling web user i's number, answered by the
// user's "page", whose audio is a WHIP publisher and WHEP player.
// Every call sends a 20 ms frame each way every 20 ms for -duration; the
// report gives calls failed, frames lost each way, the delay the server
// adds (p50, p99 after the first second: from one side's write to the other side's read, both
// in this process, so an upper bound that includes pion's and the
// kernel's share), the server's CPU and counters, and the load average
// (the machine is shared).
//
// Modes: pcmu and opus are pass-through (both sides in one codec: no
// frame decoded, each carries its index and send time); transcoded is a
// browser in Opus and a phone in PCMU (an Opus decoder and PCMU encoder
// one way, the reverse the other, per call), frames matched by RTP
// timestamp.
//
//	go run ./bench/sipwebrtc -mode pcmu -calls 100 -duration 20s
//
// SIPWEBRTC_CPUPROFILE=FILE writes the server child's CPU profile (go
// tool pprof -top FILE). Traffic stays on 127.0.0.1; the run ends by
// itself (-duration ≤ 60 s).
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/flashvox/flashvox/bench/internal/proc"
	"github.com/flashvox/flashvox/bench/internal/whipload"
	"github.com/flashvox/flashvox/media/transcode"
)

type options struct {
	client   string
	engine   string // the server's WebRTC engine: lite or pion
	mode     string
	calls    int
	duration time.Duration
	parallel int
	workers  int
	liveQ    int // transcoders' and WHEP players' queues, frames (0: the hub's)
}

// modes: the browser's and the SIP phone's codec.
var modes = map[string][2]string{"pcmu": {"pcmu", "pcmu"}, "opus": {"opus", "opus"}, "transcoded": {"opus", "pcmu"}}

func main() {
	var o options
	serveHTTP := flag.String("serve", "", "run the server child on this HTTP address (internal)")
	sipAddr := flag.String("sip", "", "the server child's SIP address (internal)")
	flag.StringVar(&o.client, "client", "plane", "the pages' WebRTC stack: "+whipload.Clients)
	flag.StringVar(&o.engine, "engine", "lite", "the server's WebRTC engine: lite (the media plane) or pion")
	flag.StringVar(&o.mode, "mode", "pcmu", "pcmu or opus (pass-through), transcoded (browser Opus, phone PCMU)")
	flag.IntVar(&o.calls, "calls", 50, "concurrent calls")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "sending time (at most 60 s)")
	flag.IntVar(&o.parallel, "parallel", 16, "calls being set up at once")
	flag.IntVar(&o.workers, "workers", 8, "sending goroutines")
	flag.IntVar(&o.liveQ, "live-queue", transcode.LiveQueueFrames, "transcoders' input and WHEP players' queues in frames, as the server sets them (0: the hub's 256, as before the bound)")
	flag.Parse()
	if *serveHTTP != "" {
		if err := serve(*serveHTTP, *sipAddr, o.calls, o.liveQ, o.engine); err != nil {
			log.Fatal(err)
		}
		return
	}
	if err := run(o); err != nil {
		log.Fatal(err)
	}
}

func run(o options) error {
	m, ok := modes[o.mode]
	if !ok {
		return fmt.Errorf("-mode %q: pcmu, opus or transcoded", o.mode)
	}
	if o.duration > time.Minute || o.duration <= 0 || o.calls < 1 {
		return errors.New("-duration must be in (0, 60s], -calls ≥ 1")
	}
	client, err := whipload.NewClient(o.client)
	if err != nil {
		return err
	}
	defer client.Close()
	httpAddr, err := proc.FreeAddr()
	if err != nil {
		return err
	}
	sipAddr, err := proc.FreeAddr()
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.duration+4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, self, "-serve", httpAddr, "-sip", sipAddr, "-calls", strconv.Itoa(o.calls), "-live-queue", strconv.Itoa(o.liveQ), "-engine", o.engine)
	logPath := filepath.Join(os.TempDir(), "bench-sipwebrtc-server.log")
	srv, err := proc.StartLogged(cmd, "server", httpAddr, syscall.SIGTERM, logPath)
	if err != nil {
		return err
	}
	defer srv.Stop()
	// sipgo logs retransmitted responses at INFO through slog's default.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	log.SetOutput(os.Stderr) // SetDefault routed the log package into slog at INFO, below Warn: the run's own lines vanished
	phones, err := newSIPPhones(ctx, sipAddr)
	if err != nil {
		return err
	}
	defer phones.Close()

	r := &runState{client: client, serverLog: logPath, mode: o.mode, browserCodec: m[0], sipCodec: m[1], passThrough: m[0] == m[1],
		frames: int(o.duration / (20 * time.Millisecond))}
	if !r.passThrough {
		if err := r.encodeTones(); err != nil {
			return err
		}
	}
	load0 := proc.LoadAvg()
	setup := time.Now()
	r.connect(ctx, phones, "http://"+httpAddr+"/phone/", o.calls, o.parallel)
	log.Printf("%d calls set up in %v (%d failed)", o.calls, time.Since(setup).Round(time.Millisecond), r.failed.Load())
	cpu0, _ := srv.CPU()
	self0, _ := proc.SelfCPU()
	start := time.Now()
	r.send(o.workers)
	elapsed := time.Since(start)
	cpu1, _ := srv.CPU()
	self1, _ := proc.SelfCPU()
	time.Sleep(time.Second) // the last frames arrive
	rss, _ := srv.RSS()
	r.report(o, load0, elapsed, cpu1-cpu0, self1-self0, rss, counters("http://"+httpAddr+"/counters"))
	r.close()
	return nil
}

// lines counts the lines of a file (the server's warnings: slow
// subscribers losing frames, failed accepts).
func lines(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	return bytes.Count(b, []byte("\n"))
}

func counters(url string) string {
	res, err := http.Get(url)
	if err != nil {
		return err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	return strings.TrimSpace(string(b))
}

// report prints the run's figures.
func (r *runState) report(o options, load0 string, elapsed, cpu, self time.Duration, rss int64, counters string) {
	var up, down []*leg
	for _, c := range r.calls {
		up, down = append(up, c.up), append(down, c.down)
	}
	fmt.Printf("mode %s (browser %s ↔ phone %s), %d calls, server engine %s, client %s, %v sending, load average %s → %s\n",
		r.mode, r.browserCodec, r.sipCodec, o.calls, o.engine, o.client, elapsed.Round(time.Millisecond), load0, proc.LoadAvg())
	fmt.Printf("  calls failed: %d of %d\n", int(r.failed.Load()), o.calls)
	for _, d := range []struct {
		name string
		s    summary
	}{{"browser → phone", summarize(up, r.frames)}, {"phone → browser", summarize(down, r.frames)}} {
		fmt.Printf("  %s: frames expected %d, received %d, lost %.3f %% (%d in calls' first second), delay p50 %v p99 %v max %v\n", d.name,
			d.s.expected, d.s.received, d.s.lossPct(), d.s.lostEarly, d.s.p50.Round(10*time.Microsecond), d.s.p99.Round(10*time.Microsecond), d.s.max.Round(time.Millisecond))
	}
	fmt.Printf("  server CPU: %.1f %% of one core (%v over %v), RSS %d MiB\n",
		100*cpu.Seconds()/elapsed.Seconds(), cpu.Round(time.Millisecond), elapsed.Round(time.Millisecond), rss>>20)
	fmt.Printf("  load client CPU: %.1f %% of one core (%v; this process: the pages' %s sessions, the SIP phones, the sending and accounting)\n",
		100*self.Seconds()/elapsed.Seconds(), self.Round(time.Millisecond), o.client)
	fmt.Printf("  server counters: %s\n", counters)
	fmt.Printf("  server log: %s (%d lines)\n", r.serverLog, lines(r.serverLog))
}
