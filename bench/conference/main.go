// Command conference is flashvox's end-to-end benchmark of mixed
// conference rooms: it starts flashvox with a throw-away configuration
// (free 127.0.0.1 ports, log level warn, one account per participant,
// rooms forced mixed), connects N phone-app clients that join rooms of a
// given size with joinConference {mode: "mixed"}, each publishing real
// 16 kHz Speex audio and playing its own mix, and measures:
//
//   - the server's CPU (utime+stime from /proc/PID/stat) during a window
//     after a warm-up, as participants per core: mix frames delivered × 20 ms
//     per CPU second (a server short of CPU skips mixes; skipped work is not
//     counted as capacity);
//   - underruns at the listeners: mix frames missing from the timestamp
//     sequence, and stalls of a listener that plays the mix at its
//     timestamps' pace with -late (1.5 frames) of playout buffer and
//     re-buffers after each stall;
//   - the latency the mixer adds: every participant's audio is a quiet
//     background tone with a loud 100 ms marker burst once per cycle, the
//     members of a room taking turns (one marker per room every 500 ms);
//     two probe listeners per room decode their mix and time each marker's
//     onset against its send time. The codec chain's own delay (Speex into
//     the mixer and out of it, measured offline by the same detector) and
//     the plain RTMP relay delay of a /live stream running in the same
//     load are subtracted.
//
// -speex-complexity sets the server's mix encoder complexity, to compare
// settings side by side on the same machine.
//
// With -talkers T only the first T members of a room send voice, the
// others encoded silence (a typical room: few talk, everyone listens).
//
// It runs each room size of -sizes with -total participants, then ramps
// rooms of -ramp-size through the totals of -ramp and stops at the first
// total with more than -max-underrun of frames in underrun. Every server
// lives at most one step, and the whole run at most -timeout.
//
// Usage:
//
//	go build -o bin/flashvox ./cmd/flashvox
//	go run ./bench/conference -sizes 5,10,50 -total 100 -ramp 200,250,300,350,400
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/flashvox/flashvox/bench/internal/proc"
)

type options struct {
	flashvox    string
	sizes       []int
	total       int
	ramp        []int
	rampSize    int
	warmup      time.Duration
	window      time.Duration
	late        time.Duration
	maxUnderrun float64
	probes      int
	talkers     int
	setupPar    int
	timeout     time.Duration
	keep        bool
}

// verbose prints each step's latency quantiles to stderr.
var verbose bool

func main() {
	var o options
	var sizes, ramp string
	flag.StringVar(&o.flashvox, "flashvox", "bin/flashvox", "flashvox binary (make build)")
	flag.StringVar(&sizes, "sizes", "5,10,50", "room sizes to run at -total participants, comma-separated")
	flag.IntVar(&o.total, "total", 100, "participants of each -sizes run (rounded down to whole rooms)")
	flag.StringVar(&ramp, "ramp", "200,250,300,350,400", "participant totals of the ramp, ascending; empty: no ramp")
	flag.IntVar(&o.rampSize, "ramp-size", 10, "room size of the ramp")
	flag.DurationVar(&o.warmup, "warmup", 3*time.Second, "sending time before the window (jitter buffers fill)")
	flag.DurationVar(&o.window, "window", 15*time.Second, "measurement window per step")
	flag.DurationVar(&o.late, "late", 30*time.Millisecond, "the listeners' playout buffer: a mix frame later than that is a stall")
	flag.Float64Var(&o.maxUnderrun, "max-underrun", 0.001, "the ramp stops after a step with a larger share of frames in underrun")
	flag.IntVar(&o.probes, "probes", 2, "listeners per room that decode their mix and time the markers")
	flag.IntVar(&o.talkers, "talkers", 0, "members per room sending voice, the others send encoded silence; 0: everyone")
	flag.IntVar(&o.setupPar, "setup-parallel", 16, "participant set-ups in flight")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "hard bound of the whole run")
	flag.BoolVar(&o.keep, "keep", false, "keep the work directory (server logs, config)")
	flag.BoolVar(&verbose, "v", false, "print each step's latency quantiles to stderr")
	complexity := flag.Int("speex-complexity", 0, "the server's conference.speex_complexity (1..10); 0: its default")
	flag.Parse()
	if *complexity != 0 {
		// The server inherits the environment (config keys as FLASHVOX_ variables).
		os.Setenv("FLASHVOX_CONFERENCE_SPEEX_COMPLEXITY", strconv.Itoa(*complexity))
	}
	var err error
	if o.sizes, err = intList(sizes); err == nil {
		o.ramp, err = intList(ramp)
	}
	if err == nil {
		err = o.validate()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "conference:", err)
		flag.Usage()
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "conference:", err)
		os.Exit(1)
	}
}

func intList(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("bad number %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func (o *options) validate() error {
	for _, n := range o.sizes {
		if n < 2 || n > 50 {
			return errors.New("-sizes: each must be 2..50 (conference.max_members)")
		}
		if o.total < n {
			return errors.New("-total: smaller than a room")
		}
	}
	for _, n := range o.ramp {
		if n < o.rampSize || n > 2000 {
			return errors.New("-ramp: each must be -ramp-size..2000")
		}
	}
	switch {
	case o.total > 2000:
		return errors.New("-total: at most 2000")
	case o.rampSize < 2 || o.rampSize > 50:
		return errors.New("-ramp-size: must be 2..50")
	case o.window < time.Second || o.window > 5*time.Minute:
		return errors.New("-window: must be 1s..5m")
	case o.warmup < time.Second:
		return errors.New("-warmup: at least 1s (the jitter buffers fill)")
	case o.probes < 1:
		return errors.New("-probes: at least 1")
	case o.talkers < 0:
		return errors.New("-talkers: 0 (everyone) or more")
	case o.setupPar < 1:
		return errors.New("-setup-parallel: at least 1")
	}
	return nil
}

func run(o options) error {
	if _, err := os.Stat(o.flashvox); err != nil {
		return fmt.Errorf("-flashvox: %w (build it: go build -o bin/flashvox ./cmd/flashvox)", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	work, cleanup, err := proc.WorkDir("flashvox-bench-conference-", o.keep)
	if err != nil {
		return err
	}
	defer cleanup()
	fmt.Println(header())
	step := 0
	one := func(size, total int) (*result, error) {
		step++
		res, err := runStep(ctx, o, fmt.Sprintf("%s/%d", work, step), size, total/size)
		if err != nil {
			return nil, err
		}
		fmt.Println(res.row())
		return res, nil
	}
	for _, size := range o.sizes {
		if _, err := one(size, o.total); err != nil {
			return err
		}
	}
	best := 0
	for _, total := range o.ramp {
		res, err := one(o.rampSize, total)
		if err != nil {
			return err
		}
		if res.underrunShare() > o.maxUnderrun {
			break
		}
		best = res.participants
	}
	if len(o.ramp) > 0 {
		fmt.Printf("\nlargest total with ≤ %.2g%% of frames in underrun (rooms of %d): %d\n", 100*o.maxUnderrun, o.rampSize, best)
	}
	return nil
}
