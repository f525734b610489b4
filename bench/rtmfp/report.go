package main

import (
	"fmt"
	"io"
	"runtime"
	"time"
)

// report prints the side-by-side table (Markdown) and the targets.
func report(w io.Writer, o options, fv, tc *result) {
	perIdle := func(r *result) float64 { return float64(r.idleRSS) / 1024 / float64(o.idle) }
	ratio := func(a, b float64) string {
		if b == 0 {
			return "—"
		}
		return fmt.Sprintf("%.2f", a/b)
	}
	met := func(ok bool) string {
		if ok {
			return "met"
		}
		return "**missed**"
	}
	fmt.Fprintf(w, "\n%d players, %d idle sessions, CPU window %v, handshake window %v with %d dialers; GOMAXPROCS %d; tcserver flags %q\n\n",
		o.players, o.idle, o.window, o.hsWindow, o.hsWorkers, runtime.GOMAXPROCS(0), o.tcArgs)
	fmt.Fprintln(w, "| metric | flashvox | tcserver | flashvox / tcserver | target | |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---|---|")
	if o.phases["handshakes"] {
		hsRows(w, "one identity", o, &fv.hs, &tc.hs, met, ratio, true)
		hsRows(w, "new identity per dial", o, &fv.hsPerDial, &tc.hsPerDial, met, ratio, false)
	}
	if o.phases["players"] {
		fmt.Fprintf(w, "| server CPU, %d players of one voice stream (%% of one core) | %.1f | %.1f | %s | ≤ 1.5 × tcserver | %s |\n",
			o.players, 100*fv.playersCPU, 100*tc.playersCPU, ratio(fv.playersCPU, tc.playersCPU), met(tc.playersCPU > 0 && fv.playersCPU <= 1.5*tc.playersCPU))
		fmt.Fprintf(w, "| audio messages/s delivered per player | %.1f | %.1f | | 62.5 sent | |\n", fv.audioRate, tc.audioRate)
	}
	if o.phases["idle"] {
		fmt.Fprintf(w, "| VmRSS per idle connected session (KiB) | %.1f | %.1f | %s | ≤ 64 | %s |\n",
			perIdle(fv), perIdle(tc), ratio(perIdle(fv), perIdle(tc)), met(perIdle(fv) <= 64))
		fmt.Fprintf(w, "| VmRSS at start (MiB) | %.1f | %.1f | | | |\n", float64(fv.rssStart)/(1<<20), float64(tc.rssStart)/(1<<20))
	}
	fmt.Fprintf(w, "\nflashvox's counters after each handshake phase: %s | %s\n", fv.hs.metrics, fv.hsPerDial.metrics)
	fmt.Fprintf(w, "\nrun finished %s\n", time.Now().UTC().Format(time.RFC3339))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// hsRows prints one handshake phase's rows; target marks the one the
// ≥ 1000/s target is read from.
func hsRows(w io.Writer, mode string, o options, fv, tc *hsResult, met func(bool) string, ratio func(a, b float64) string, target bool) {
	rate := func(r *hsResult) float64 { return float64(r.ok) / o.hsWindow.Seconds() }
	perCPU := func(r *hsResult) float64 {
		if r.cpu <= 0 {
			return 0
		}
		return float64(r.ok) / r.cpu.Seconds()
	}
	self := func(r *hsResult) float64 {
		if r.ok == 0 {
			return 0
		}
		return r.selfCPU.Seconds() * 1000 / float64(r.ok)
	}
	tgt, ok := "", ""
	if target {
		tgt, ok = "≥ 1000", met(perCPU(fv) >= 1000)
	}
	fmt.Fprintf(w, "| handshakes/s, wall, %s (%d dialers on the same cores) | %.0f | %.0f | %s | | |\n", mode, o.hsWorkers, rate(fv), rate(tc), ratio(rate(fv), rate(tc)))
	fmt.Fprintf(w, "| handshakes per server CPU-second (per core), %s | %.0f | %.0f | %s | %s | %s |\n", mode, perCPU(fv), perCPU(tc), ratio(perCPU(fv), perCPU(tc)), tgt, ok)
	fmt.Fprintf(w, "| handshake duration p50 / p99 (ms), %s | %.1f / %.1f | %.1f / %.1f | | | |\n", mode, ms(fv.p50), ms(fv.p99), ms(tc.p50), ms(tc.p99))
	fmt.Fprintf(w, "| dials failed / taking ≥ 500 ms (retried), %s | %d / %d | %d / %d | | | |\n", mode, fv.fail, fv.slow, tc.fail, tc.slow)
	fmt.Fprintf(w, "| dialers' CPU per handshake, ms (our initiator), %s | %.2f | %.2f | | | |\n", mode, self(fv), self(tc))
}
