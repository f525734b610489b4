// Command relay is flashvox's relay benchmark: it runs the same audio load
// against flashvox and nginx-rtmp, each started here as a child process on
// free 127.0.0.1 ports, and prints both side by side with the ratio
// flashvox/nginx.
//
// The load is P publishers × S subscribers each, Nellymoser-sized audio: a
// 65-byte FLV audio tag body (first byte 0x42) every 16 ms, RTMP timestamp
// = milliseconds since the publisher started. Bytes 1..8 of each payload
// carry the send time, so each subscriber measures publish→receive latency
// over loopback (an upper bound of the latency the relay adds: it includes
// the load generator's own queueing and scheduling). Sequence numbers in
// bytes 9..12 count lost and reordered frames.
//
// Per server it measures, from /proc/PID/stat and /proc/PID/status:
//   - CPU (utime+stime) during the measurement window (after -warmup),
//     normalised to CPU seconds per 1000 subscriber-streams per minute;
//   - RSS growth under load divided by the connection count;
//   - RSS growth with -idle connected-but-idle clients (handshake and
//     connect only), on a freshly started server.
//
// Publishers use rtmp.Client; subscribers use the rtmp package's handshake,
// chunk.Reader and chunk.Writer from one goroutine per connection, so the
// load generator stays cheap on a small machine. Everything stops by
// itself: each server lives at most -timeout.
//
// Usage:
//
//	go build -o bin/flashvox ./cmd/flashvox
//	go run ./bench/relay -p 20 -s 100 -duration 20s
//
// Set -perf FILE to record the flashvox process with `perf record -g`
// during the measurement window (and nginx-rtmp into FILE.nginx-rtmp; with
// -players, the real-player windows into FILE.players and
// FILE.players.nginx-rtmp). -players adds the real-player load (players.go),
// -lean=false leaves out the lean one. The phases run in turn, each server
// one after the other per phase, and every window reports the machine's
// load average and the server's context switches per published frame;
// -rounds N repeats them, alternating which server goes first, and ends
// with every round's ratios and their median.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/flashvox/flashvox/bench/internal/proc"
)

type options struct {
	load     loadConfig
	idle     int
	flashvox string
	env      string
	nginx    string
	module   string
	servers  string
	perf     string
	timeout  time.Duration
	keep     bool
	players  bool
	lean     bool
	rounds   int
}

func main() {
	var o options
	flag.IntVar(&o.load.publishers, "p", 10, "publishers")
	flag.IntVar(&o.load.subscribers, "s", 10, "subscribers per publisher")
	flag.DurationVar(&o.load.duration, "duration", 20*time.Second, "sending time per server, warm-up included")
	flag.DurationVar(&o.load.warmup, "warmup", 2*time.Second, "sending time before measuring starts")
	flag.DurationVar(&o.load.drain, "drain", 2*time.Second, "wait for late frames after the publishers stop")
	flag.IntVar(&o.load.setupPar, "setup-parallel", 32, "connection setups in flight")
	flag.IntVar(&o.idle, "idle", 1000, "connected-but-idle clients in the idle-memory phase (0 skips it)")
	flag.StringVar(&o.flashvox, "flashvox", "bin/flashvox", "flashvox binary (make build)")
	flag.StringVar(&o.env, "flashvox-env", "", "extra environment for flashvox only, comma-separated KEY=VALUE (e.g. GOMAXPROCS=1,GOGC=400)")
	flag.StringVar(&o.nginx, "nginx", "nginx", "nginx binary")
	flag.StringVar(&o.module, "nginx-module", "/usr/lib/nginx/modules/ngx_rtmp_module.so", "ngx_rtmp_module.so (libnginx-mod-rtmp)")
	flag.StringVar(&o.servers, "servers", "flashvox,nginx", "servers to run, comma-separated: flashvox, nginx")
	flag.StringVar(&o.perf, "perf", "", "record flashvox with perf into this file during the window (nginx-rtmp into FILE.nginx-rtmp; the real-player load into FILE.players[.nginx-rtmp])")
	flag.DurationVar(&o.timeout, "timeout", 3*time.Minute, "hard bound of each round (the whole run: -rounds times this)")
	flag.BoolVar(&o.keep, "keep", false, "keep the work directory (server logs, nginx.conf)")
	flag.BoolVar(&o.players, "players", false, "also run the real-player load: -p ffmpeg publishers × -s rtmpdump players each (players.go)")
	flag.IntVar(&o.rounds, "rounds", 1, "repeat the load phases this many times, alternating which server goes first, and summarise the ratios")
	flag.BoolVar(&o.lean, "lean", true, "run the lean Go load (-lean=false with -players: the real players only)")
	flag.Parse()
	if err := o.validate(); err != nil {
		fmt.Fprintln(os.Stderr, "relay:", err)
		flag.Usage()
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "relay:", err)
		os.Exit(1)
	}
}

func (o *options) validate() error {
	l := o.load
	switch {
	case l.publishers < 1 || l.publishers > 1000:
		return errors.New("-p: must be 1..1000")
	case l.subscribers < 0 || l.publishers*l.subscribers > 10000:
		return errors.New("-s: publishers × subscribers must be 0..10000")
	case l.duration <= l.warmup || l.duration > 5*time.Minute:
		return errors.New("-duration: must exceed -warmup and be at most 5m")
	case l.setupPar < 1:
		return errors.New("-setup-parallel: must be at least 1")
	case o.idle < 0 || o.idle > 10000:
		return errors.New("-idle: must be 0..10000")
	case o.rounds < 1 || o.rounds > 10:
		return errors.New("-rounds: must be 1..10")
	case !o.lean && !o.players:
		return errors.New("-lean=false: needs -players")
	case o.env != "" && !validEnv(o.env):
		return errors.New("-flashvox-env: want KEY=VALUE[,KEY=VALUE…]")
	}
	return nil
}

func validEnv(env string) bool {
	for kv := range strings.SplitSeq(env, ",") {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return false
		}
	}
	return true
}

// serverRun is everything measured for one server.
type serverRun struct {
	name string
	idle *idleResult
	load *loadResult
}

func run(o options) error {
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout*time.Duration(o.rounds))
	defer cancel()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	var specs []serverSpec
	for name := range strings.SplitSeq(o.servers, ",") {
		switch strings.TrimSpace(name) {
		case "flashvox":
			if _, err := os.Stat(o.flashvox); err != nil {
				return fmt.Errorf("-flashvox: %w (build it: go build -o bin/flashvox ./cmd/flashvox)", err)
			}
			specs = append(specs, flashvoxSpec(o.flashvox, o.env))
		case "nginx":
			if _, err := os.Stat(o.module); err != nil {
				return fmt.Errorf("-nginx-module: %w (apt-get install -y nginx-light libnginx-mod-rtmp)", err)
			}
			specs = append(specs, nginxSpec(o.nginx, o.module))
		default:
			return fmt.Errorf("-servers: unknown %q", name)
		}
	}
	work, cleanup, err := proc.WorkDir("flashvox-bench-", o.keep)
	if err != nil {
		return err
	}
	defer cleanup()
	base := time.Now()
	var sum roundsSummary
	for r := range o.rounds {
		rr, err := runRound(ctx, o, specs, work, r, base)
		if err != nil {
			return err
		}
		if o.rounds > 1 {
			fmt.Printf("\n## Round %d of %d\n", r+1, o.rounds)
		}
		if o.lean || (r == 0 && o.idle > 0) {
			fmt.Print(report(o, rr.runs))
		}
		if o.players {
			fmt.Print(playersReport(o, rr.names, rr.players))
		}
		sum.add(rr)
	}
	if o.rounds > 1 {
		fmt.Print(sum.String())
	}
	return nil
}

// round is what one round measured, in the order of -servers.
type round struct {
	runs    []serverRun
	names   []string
	players []*playersResult
}

// runRound runs each phase on every server in turn: the servers' runs of
// one load are a minute apart at most, so other jobs on the machine weigh
// on both alike. Odd rounds start with the last server, so that neither
// always goes first. The idle phase runs in the first round only.
func runRound(ctx context.Context, o options, specs []serverSpec, work string, r int, base time.Time) (*round, error) {
	order := make([]int, len(specs))
	for i := range order {
		order[i] = i
		if r%2 == 1 {
			order[i] = len(specs) - 1 - i
		}
	}
	dir := func(i int, phase string) string {
		return filepath.Join(work, fmt.Sprintf("r%d-%d-%s-%s", r, i, specs[i].name, phase))
	}
	rr := &round{runs: make([]serverRun, len(specs)), players: make([]*playersResult, len(specs))}
	for i, spec := range specs {
		rr.runs[i].name = spec.name
		rr.names = append(rr.names, spec.name)
	}
	for _, i := range order {
		if r > 0 || o.idle == 0 {
			break
		}
		srv, err := startServer(ctx, specs[i], dir(i, "idle"))
		if err != nil {
			return nil, err
		}
		rr.runs[i].idle, err = runIdle(ctx, srv, o.idle, o.load.setupPar)
		srv.Stop()
		if err != nil {
			return nil, fmt.Errorf("%s idle phase: %w (log %s)", specs[i].name, err, srv.Log)
		}
	}
	for _, i := range order {
		if !o.lean {
			break
		}
		srv, err := startServer(ctx, specs[i], dir(i, "load"))
		if err != nil {
			return nil, err
		}
		perf := o.perf
		if perf != "" && specs[i].name != "flashvox" {
			perf += "." + specs[i].name // the reference server's profile, for comparison
		}
		fmt.Fprintf(os.Stderr, "%s: %d publishers × %d subscribers for %s…\n", specs[i].name, o.load.publishers, o.load.subscribers, o.load.duration)
		rr.runs[i].load, err = runLoad(ctx, srv, o.load, base, perf)
		srv.Stop()
		if err != nil {
			return nil, fmt.Errorf("%s load phase: %w (log %s)", specs[i].name, err, srv.Log)
		}
	}
	for _, i := range order {
		if !o.players {
			break
		}
		var err error
		if rr.players[i], err = playersPhase(ctx, o, specs[i], dir(i, "players")); err != nil {
			return nil, err
		}
	}
	return rr, nil
}

// playersPhase runs the real-player load on a fresh server of spec.
func playersPhase(ctx context.Context, o options, spec serverSpec, dir string) (*playersResult, error) {
	srv, err := startServer(ctx, spec, dir)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	flv, err := makeToneFLV(ctx, dir)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "%s: %d ffmpeg publishers × %d rtmpdump players for %s…\n", spec.name, o.load.publishers, o.load.subscribers, o.load.duration)
	perf := o.perf
	if perf != "" {
		perf += ".players"
		if spec.name != "flashvox" {
			perf += "." + spec.name
		}
	}
	pr, err := runPlayers(ctx, srv, o.load, flv, perf)
	if err != nil {
		return nil, fmt.Errorf("%s players phase: %w (log %s)", spec.name, err, srv.Log)
	}
	return pr, nil
}
