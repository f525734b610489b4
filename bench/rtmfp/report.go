package main

import (
	"fmt"
	"io"
	"runtime"
	"time"
)

// report prints the side-by-side table (Markdown) and the targets.
func report(w io.Writer, o options, fv, tc *result) {
	hsRate := func(r *result) float64 { return float64(r.hsOK) / o.hsWindow.Seconds() }
	hsPerCPU := func(r *result) float64 {
		if r.hsCPU <= 0 {
			return 0
		}
		return float64(r.hsOK) / r.hsCPU.Seconds()
	}
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
	fmt.Fprintf(w, "| handshakes/s, wall (clients on the same cores) | %.0f | %.0f | %s | | |\n", hsRate(fv), hsRate(tc), ratio(hsRate(fv), hsRate(tc)))
	fmt.Fprintf(w, "| handshakes per server CPU-second (= per core) | %.0f | %.0f | %s | ≥ 1000 | %s |\n",
		hsPerCPU(fv), hsPerCPU(tc), ratio(hsPerCPU(fv), hsPerCPU(tc)), met(hsPerCPU(fv) >= 1000))
	fmt.Fprintf(w, "| failed handshakes | %d | %d | | | |\n", fv.hsFail, tc.hsFail)
	selfPer := func(r *result) float64 {
		if r.hsOK == 0 {
			return 0
		}
		return r.hsSelfCPU.Seconds() * 1000 / float64(r.hsOK)
	}
	fmt.Fprintf(w, "| dialers' CPU per handshake, ms (our initiator, this process) | %.2f | %.2f | %s | | |\n", selfPer(fv), selfPer(tc), ratio(selfPer(fv), selfPer(tc)))
	fmt.Fprintf(w, "| server CPU, %d players of one voice stream (%% of one core) | %.1f | %.1f | %s | ≤ 1.5 × tcserver | %s |\n",
		o.players, 100*fv.playersCPU, 100*tc.playersCPU, ratio(fv.playersCPU, tc.playersCPU), met(tc.playersCPU > 0 && fv.playersCPU <= 1.5*tc.playersCPU))
	fmt.Fprintf(w, "| audio messages/s delivered per player | %.1f | %.1f | | 62.5 sent | |\n", fv.audioRate, tc.audioRate)
	fmt.Fprintf(w, "| VmRSS per idle connected session (KiB) | %.1f | %.1f | %s | ≤ 64 | %s |\n",
		perIdle(fv), perIdle(tc), ratio(perIdle(fv), perIdle(tc)), met(perIdle(fv) <= 64))
	fmt.Fprintf(w, "| VmRSS at start (MiB) | %.1f | %.1f | | | |\n", float64(fv.rssStart)/(1<<20), float64(tc.rssStart)/(1<<20))
	if fv.hsMetrics != "" {
		fmt.Fprintf(w, "\nflashvox after the handshake phase: %s\n", fv.hsMetrics)
	}
	fmt.Fprintf(w, "\nrun finished %s\n", time.Now().UTC().Format(time.RFC3339))
}
