package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/flashvox/flashvox/bench/internal/proc"
)

// result is what one step measured.
type result struct {
	rooms, size, participants int
	talkers                   int // members per room sending voice; the others send silence
	window                    time.Duration
	serverCPU, selfCPU        time.Duration
	load                      [2]string // load average at the window's start and end
	frames, missing, stalls   int
	receiversHit              int // receivers with at least one underrun frame
	latency                   []time.Duration
	unmatched                 int
	relay                     []time.Duration
	codecDelay                time.Duration
	behind                    int // "mixer fell behind" warnings in the server log
}

// runStep runs rooms rooms of size participants against a fresh server.
func runStep(ctx context.Context, o options, dir string, size, rooms int) (*result, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	total := size * rooms
	fmt.Fprintf(os.Stderr, "step: %d rooms of %d (%d participants)…\n", rooms, size, total)
	srv, err := startServer(ctx, o.flashvox, dir, total, rooms, size)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	talkers := size
	if o.talkers > 0 {
		talkers = min(size, o.talkers)
	}
	cyc, err := makeCycle(talkers * slotFrames)
	if err != nil {
		return nil, err
	}
	delaySamples, err := cyc.codecDelay()
	if err != nil {
		return nil, fmt.Errorf("codec delay: %w", err)
	}
	url := "rtmp://" + srv.addr + "/phone"
	rs := make([]*room, rooms)
	for i := range rs {
		rs[i] = &room{name: fmt.Sprintf("bench%03d", i), parts: make([]*participant, size)}
	}
	defer func() {
		for _, r := range rs {
			for _, p := range r.parts {
				if p != nil {
					p.c.Close()
					p.rx.close()
				}
			}
		}
	}()
	if err := setupAll(ctx, url, rs, o); err != nil {
		return nil, fmt.Errorf("%w (server log %s)", err, srv.Log)
	}
	rp, err := startRelayProbe(ctx, srv.addr)
	if err != nil {
		return nil, err
	}
	defer rp.close()

	sctx, stopSend := context.WithCancel(ctx)
	var wg sync.WaitGroup
	sendErr := make(chan error, len(rs))
	start := time.Now()
	for _, r := range rs {
		wg.Go(func() {
			if err := r.send(sctx, start, cyc, talkers); err != nil {
				sendErr <- err
			}
		})
	}
	wg.Go(func() { rp.run(sctx) })
	stopAll := func() { stopSend(); wg.Wait() }
	defer stopAll()

	res := &result{rooms: rooms, size: size, talkers: talkers, participants: total, window: o.window,
		codecDelay: time.Duration(delaySamples) * time.Second / rate}
	if err := sleep(ctx, o.warmup); err != nil {
		return nil, err
	}
	from := time.Now()
	cpu0, err := srv.CPU()
	if err != nil {
		return nil, err
	}
	self0, _ := proc.SelfCPU()
	res.load[0] = proc.LoadAvg()
	if err := sleep(ctx, o.window); err != nil {
		return nil, err
	}
	to := time.Now()
	cpu1, err := srv.CPU()
	if err != nil {
		return nil, err
	}
	self1, _ := proc.SelfCPU()
	res.load[1] = proc.LoadAvg()
	res.serverCPU, res.selfCPU = cpu1-cpu0, self1-self0
	stopAll()
	select {
	case err := <-sendErr:
		return nil, fmt.Errorf("%w (server log %s)", err, srv.Log)
	default:
	}
	// Frames of the window still in flight arrive within a few frames.
	if err := sleep(ctx, 200*time.Millisecond); err != nil {
		return nil, err
	}
	for _, r := range rs {
		for _, p := range r.parts {
			st := p.rx.window(from, to, o.late)
			res.frames += st.frames
			res.missing += st.missing
			res.stalls += st.stalls
			if st.missing+st.stalls > 0 {
				res.receiversHit++
			}
			lat, un := p.rx.latencies(from, to)
			res.latency = append(res.latency, lat...)
			res.unmatched += un
		}
	}
	res.relay = rp.window(from, to)
	res.behind = srv.warnings("mixer fell behind")
	if res.frames == 0 {
		return nil, errors.New("no mix frame received in the window")
	}
	return res, nil
}

// setupAll joins every participant, o.setupPar at a time; the last
// o.probes of each room (listeners when not everyone talks) decode their mix.
func setupAll(ctx context.Context, url string, rs []*room, o options) error {
	sem := make(chan struct{}, o.setupPar)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	size := len(rs[0].parts)
	for ri, r := range rs {
		for j := range r.parts {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				jctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				defer cancel()
				p, err := join(jctx, url, userName(ri*size+j), r, j, j >= size-o.probes)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					if first == nil {
						first = err
					}
					return
				}
				r.parts[j] = p
			})
		}
	}
	wg.Wait()
	return first
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func (r *result) underrunShare() float64 {
	if r.frames == 0 {
		return 1
	}
	return float64(r.missing+r.stalls) / float64(r.frames+r.missing)
}

func header() string {
	return "| rooms × size (talking) | participants | server CPU (% of a core) | participants / core (CPU per mix frame delivered) | load generator CPU | mix frames | underruns (frames missing + listener stalls) | listeners with an underrun | marker latency p50 / p99 (end to end) | Speex chain delay | relay path p50 | **mixer-added p50 / p99** | markers timed | \"fell behind\" | load avg (start → end) |\n" +
		"|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
}

func (r *result) row() string {
	cpu := float64(r.serverCPU) / float64(r.window)
	// Per delivered mix frame: a server short of CPU skips mixes, and the
	// work it skipped must not count as capacity.
	perCore := "—"
	if r.serverCPU > 0 {
		perCore = fmt.Sprintf("%.0f", float64(r.frames)*frameMillis*float64(time.Millisecond)/float64(r.serverCPU))
	}
	lat := slices.Clone(r.latency)
	slices.Sort(lat)
	relay := slices.Clone(r.relay)
	slices.Sort(relay)
	rp50 := pct(relay, 0.5)
	added := func(q float64) float64 { return ms(pct(lat, q) - r.codecDelay - rp50) }
	if verbose {
		fmt.Fprint(os.Stderr, "mixer-added latency quantiles (ms):")
		for _, q := range []float64{0, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1} {
			fmt.Fprintf(os.Stderr, " q%g=%.1f", q, added(q))
		}
		fmt.Fprintln(os.Stderr)
	}
	return fmt.Sprintf("| %d × %d (%d) | %d | %.0f %% | %s | %.0f %% | %d | %d + %d (%.3f %%) | %d of %d | %.1f / %.1f ms | %.1f ms | %.2f ms | **%.1f / %.1f ms** | %d (%d unmatched) | %d | %s → %s |",
		r.rooms, r.size, r.talkers, r.participants, 100*cpu, perCore, 100*float64(r.selfCPU)/float64(r.window),
		r.frames, r.missing, r.stalls, 100*r.underrunShare(), r.receiversHit, r.participants,
		ms(pct(lat, 0.5)), ms(pct(lat, 0.99)), ms(r.codecDelay), ms(rp50), added(0.5), added(0.99),
		len(lat), r.unmatched, r.behind, r.load[0], r.load[1])
}

func pct(v []time.Duration, q float64) time.Duration {
	if len(v) == 0 {
		return 0
	}
	return v[min(len(v)-1, int(q*float64(len(v))))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
