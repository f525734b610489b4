package main

import (
	"fmt"
	"io"
	"time"
)

// memory prints the server's curves and memory figures and checks that
// its VmRSS came back to the baseline ±10 %. VmRSS is
// split into RssAnon (Go heap and stacks, runtime metadata, C allocations)
// and RssFile (the binary's and libraries' pages), and the Go runtime's own
// figures from /metrics are printed beside them, to tell a leak from memory
// the runtime has not yet given back.
func (r *result) memory(w io.Writer, failf func(string, ...any)) {
	ph := r.phases
	b0, b1 := ph.warm-5*time.Second, ph.warm
	e0, e1 := ph.end-endWindow(ph), ph.end+time.Second
	rssOf := func(s sample) int64 { return s.rss }
	anonOf := func(s sample) int64 { return s.anon }
	fileOf := func(s sample) int64 { return s.fileRSS }
	var at []time.Duration
	var rss, fd []float64
	var peak, peakAnon int64
	var peakFD int
	for _, s := range r.samples {
		at = append(at, s.at)
		rss = append(rss, mib(s.rss))
		fd = append(fd, float64(s.fds))
		peak, peakAnon, peakFD = max(peak, s.rss), max(peakAnon, s.anon), max(peakFD, s.fds)
	}
	fmt.Fprintln(w)
	fmt.Fprint(w, chart("server VmRSS", "MiB", at, rss, ph.warm, ph.hostileEnd, 72, 8))
	fmt.Fprintln(w)
	fmt.Fprint(w, chart("server open fds", "count", at, fd, ph.warm, ph.hostileEnd, 72, 6))

	base, end := median(r.samples, b0, b1, rssOf), median(r.samples, e0, e1, rssOf)
	drift := float64(end-base) / float64(max(base, 1))
	ab, ae := median(r.samples, b0, b1, anonOf), median(r.samples, e0, e1, anonOf)
	fb, fe := median(r.samples, b0, b1, fileOf), median(r.samples, e0, e1, fileOf)
	fmt.Fprintf(w, "\nbaseline = median of %s–%s, end = median of the last %s\n", b0, b1, endWindow(ph))
	fmt.Fprintf(w, "VmRSS:   baseline %.1f MiB, peak %.1f MiB, end %.1f MiB: %+.1f %% (the verdict)\n", mib(base), mib(peak), mib(end), 100*drift)
	fmt.Fprintf(w, "RssAnon: baseline %.1f MiB, peak %.1f MiB, end %.1f MiB; RssFile %.1f → %.1f MiB\n",
		mib(ab), mib(peakAnon), mib(ae), mib(fb), mib(fe))
	fmt.Fprintf(w, "open fds: %d at the baseline, peak %d, %d at the end\n", fdsAt(r.samples, ph.warm), peakFD, fdsAt(r.samples, ph.end))
	mem := func(m map[string]float64) string {
		return fmt.Sprintf("all the runtime holds %.1f MiB: heap in use %.1f MiB, heap idle not released %.1f MiB, stacks %.1f MiB; %.0f goroutines, %.0f OS threads, returned to the system %.0f times",
			(m["go_memstats_sys_bytes"]-m["go_memstats_heap_released_bytes"])/(1<<20),
			m["go_memstats_heap_inuse_bytes"]/(1<<20), (m["go_memstats_heap_idle_bytes"]-m["go_memstats_heap_released_bytes"])/(1<<20),
			m["go_memstats_stack_inuse_bytes"]/(1<<20), m["go_goroutines"], m["go_threads"], m["flashvox_memory_returned_total"])
	}
	fmt.Fprintf(w, "Go runtime at the baseline: %s\nGo runtime at the end:      %s\n", mem(r.mBase), mem(r.m1))
	outside := base == 0 || end == 0 || drift > maxRSSDrift || drift < -maxRSSDrift
	switch {
	case !outside:
	case ph.end-ph.hostileEnd < judgedSettle:
		// A short run's settle time is about one collection cycle of the
		// normal load: what the attack left fragmented is still there
		// (BENCHMARKS.md "Soak"). The figure is printed, not judged.
		fmt.Fprintf(w, "VmRSS not judged: %s of settle time is under %s (run -duration 5m or longer for the memory verdict)\n", ph.end-ph.hostileEnd, judgedSettle)
	default:
		failf("VmRSS at the end %.1f MiB is not within ±%.0f %% of the baseline %.1f MiB", mib(end), 100*maxRSSDrift, mib(base))
	}
}
