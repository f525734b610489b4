// Command soak runs flashvox under a mixed normal load for a long time
// while hostile clients take turns at the attacks of docs/SECURITY.md, and checks
// that the normal users did not notice and that the server's memory comes
// back to where it was.
//
// Normal load (sized for 2 shared cores): relayed streams (ffmpeg
// publishing a looped Nellymoser FLV, played by a Go client and rtmpdump;
// a Go publisher of timestamped markers played by two Go clients), 1:1
// calls between phone-app clients (invite, accept, markers both ways,
// bye, again), one mixed conference, and SIP calls (sipp with a digest
// login to the echo number). Hostile clients, one kind at a time, from
// other loopback addresses where the attack is per address: half-sent
// RTMP messages before connect, idle HTTP keep-alives, RTMPT /open floods,
// SIP/TCP half-sent requests, HTTP login guessing, anonymous ?codec=
// players, connects to unknown applications.
//
// The server's RSS and open fds are sampled every second from /proc. The
// baseline RSS is the median over the last 5 s of the warm-up (normal load
// only); the end RSS is the median over the last part of the settle time
// (hostile clients gone, normal load still running). The exit status is 1
// when a threshold of report.go's verdict is crossed.
//
//	go run ./bench/soak -duration 60s       # make soak
//	go run ./bench/soak                     # 30 minutes
//
// Traffic stays on 127.0.0.x; every process it starts is bounded and
// stopped by its PID.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/flashvox/flashvox/bench/internal/proc"
)

type options struct {
	flashvox                         string
	duration, callLen, settle        time.Duration
	relays, calls, members, sipCalls int
	keep, noHostile                  bool
	only                             string
}

func main() {
	var o options
	flag.StringVar(&o.flashvox, "flashvox", "bin/flashvox", "flashvox binary to start")
	flag.DurationVar(&o.duration, "duration", 30*time.Minute, "length of the run (at least 50s)")
	flag.DurationVar(&o.settle, "settle", 0, "normal load alone after the hostile turns (default: a fifth of -duration, 40s to 3m)")
	flag.DurationVar(&o.callLen, "call", 15*time.Second, "length of each 1:1 call")
	flag.IntVar(&o.relays, "relays", 2, "relayed streams (each: ffmpeg + marker publisher, 4 players)")
	flag.IntVar(&o.calls, "calls", 2, "1:1 calls at once")
	flag.IntVar(&o.members, "members", 3, "members of the mixed conference")
	flag.IntVar(&o.sipCalls, "sip", 2, "SIP calls at once (sipp to the echo number)")
	flag.BoolVar(&o.noHostile, "no-hostile", false, "normal load only (a control run for the curves)")
	flag.StringVar(&o.only, "attacks", "", "run only the hostile turns whose names contain one of these comma-separated words")
	flag.BoolVar(&o.keep, "keep", false, "keep the work directory (configuration, logs)")
	flag.Parse()
	if o.duration < 50*time.Second {
		log.Fatal("-duration must be at least 50s")
	}
	if ph := plan(o.duration, o.settle); ph.hostileEnd-ph.warm < 2*time.Second {
		log.Fatal("-settle leaves no time for hostile turns")
	}
	ok, err := run(o)
	if err != nil {
		log.Fatal(err)
	}
	if !ok {
		os.Exit(1)
	}
}

// phases of a run: warm-up (normal load only; the baseline is its last
// 5 s), hostile turns, settle (normal load only; the end RSS is its last
// part).
// minSettle: see plan.
const minSettle = 40 * time.Second

type phases struct {
	warm, hostileEnd, end, turn time.Duration
}

func plan(d, settle time.Duration) phases {
	warm := min(max(d/10, 25*time.Second), 60*time.Second)
	if settle <= 0 {
		// At least the server's idle timeouts (HTTP keep-alive and SIP/TCP,
		// 30 s) plus an end window: until then the attack's admitted
		// connections are still open by design, and memory cannot be back.
		settle = min(max(d/5, minSettle), 180*time.Second)
	}
	p := phases{warm: warm, hostileEnd: d - settle, end: d}
	p.turn = min(max((p.hostileEnd-p.warm)/time.Duration(len(attacks())), 2*time.Second), 60*time.Second)
	return p
}

func run(o options) (bool, error) {
	for _, tool := range []string{"ffmpeg", "rtmpdump", "sipp"} {
		if _, err := exec.LookPath(tool); err != nil {
			return false, fmt.Errorf("%s is missing (make deps)", tool)
		}
	}
	dir, cleanup, err := proc.WorkDir("soak-", o.keep)
	if err != nil {
		return false, err
	}
	defer cleanup()
	ctx, cancel := context.WithTimeout(context.Background(), o.duration+2*time.Minute)
	defer cancel()
	ctx, stopSignals := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM) // stop what we started, then report
	defer stopSignals()
	s, err := startServer(ctx, o.flashvox, dir, o)
	if err != nil {
		return false, err
	}
	defer s.Stop()
	scenario, err := sipSetup(ctx, dir)
	if err != nil {
		return false, err
	}
	ph := plan(o.duration, o.settle)
	start := time.Now()
	logf := func(msg string) { fmt.Fprintf(os.Stderr, "%5.1fs %s\n", time.Since(start).Seconds(), msg) }
	sctx, stopSampler := context.WithCancel(ctx)
	defer stopSampler()
	var sp sampler
	samplerDone := make(chan struct{})
	go func() { sp.run(sctx, s.PID(), start); close(samplerDone) }()
	m0 := s.metrics()

	r := &result{opts: o, phases: ph, server: s, start: start, stalls: &stallWatch{}}
	go r.stalls.run(sctx)
	lctx, stopLoad := context.WithDeadline(ctx, start.Add(ph.end))
	defer stopLoad()
	var wg sync.WaitGroup
	tracks, waitPeers, err := relays(lctx, s, dir, o.relays, r.problem)
	if err != nil {
		return false, err
	}
	r.relay = tracks
	rtmpURL := "rtmp://" + s.rtmp
	for i := range o.members {
		tr := newTrack("conference", fmt.Sprintf("member%d mix", i), frameDur)
		r.conf = append(r.conf, tr)
		wg.Go(func() { member(lctx, rtmpURL+"/phone", "soak", i, tr) })
	}
	for i := range o.calls {
		wg.Go(func() { callLoop(lctx, rtmpURL+"/phone", i, o.callLen, &r.calls) })
	}
	for i := range o.sipCalls {
		wg.Go(func() { sipLoop(lctx, s, dir, scenario, i, &r.sip) })
	}
	wg.Go(func() { r.watch(lctx, s) })
	logf(fmt.Sprintf("normal load running; hostile turns of %s from %s to %s; baseline RSS at %s, end RSS in the last %s",
		ph.turn, ph.warm, ph.hostileEnd, ph.warm, endWindow(ph)))
	sleepCtx(ctx, time.Until(start.Add(ph.warm)))
	r.mBase = s.metrics()
	r.counts = make([]*attackCount, len(attacks()))
	for i := range r.counts {
		r.counts[i] = &attackCount{}
	}
	hctx, stopHostile := context.WithDeadline(ctx, start.Add(ph.hostileEnd))
	if !o.noHostile {
		runAttacks(hctx, s, ph.turn, o.only, r.counts, logf)
	}
	<-hctx.Done()
	stopHostile()
	logf("hostile clients stopped; settling")
	<-lctx.Done()
	logf("normal load stopping")
	wg.Wait()
	r.peerProblems = waitPeers()
	stopSampler()
	<-samplerDone
	r.m0, r.m1 = m0, s.metrics()
	r.samples = sp.all()
	return r.report(os.Stdout, dir), nil
}

// endWindow is the part of the settle time the end RSS is measured over.
func endWindow(ph phases) time.Duration {
	return min(max((ph.end-ph.hostileEnd)/3, 5*time.Second), 30*time.Second)
}
