package main

import (
	"fmt"
	"strings"
	"time"
)

// row is one line of the report: a value per server, and whether the
// ratio flashvox/nginx means something for it.
type row struct {
	label string
	value func(r serverRun) (float64, bool)
	unit  string // printf verb for the value
	ratio bool
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func perConnKiB(delta int64, n int) float64 { return float64(delta) / 1024 / float64(n) }

func loadRow(label, unit string, ratio bool, f func(l *loadResult) float64) row {
	return row{label: label, unit: unit, ratio: ratio, value: func(r serverRun) (float64, bool) {
		if r.load == nil {
			return 0, false
		}
		return f(r.load), true
	}}
}

func rows(o options) []row {
	subStreams := o.load.publishers * o.load.subscribers
	return []row{
		loadRow("connections under load", "%.0f", false, func(l *loadResult) float64 { return float64(l.conns) }),
		loadRow("setup time, s", "%.2f", true, func(l *loadResult) float64 { return l.setup.Seconds() }),
		loadRow("measurement window, s", "%.2f", false, func(l *loadResult) float64 { return l.window.Seconds() }),
		loadRow("server CPU in window, s", "%.2f", true, func(l *loadResult) float64 { return l.serverCPU.Seconds() }),
		loadRow("server CPU, % of one core", "%.1f", true, func(l *loadResult) float64 { return 100 * l.serverCPU.Seconds() / l.window.Seconds() }),
		loadRow("**CPU s / 1000 sub-streams / min**", "%.2f", true, func(l *loadResult) float64 {
			return cpuPer1000PerMin(l.serverCPU, subStreams, l.window)
		}),
		loadRow("latency p50, ms", "%.3f", true, func(l *loadResult) float64 { return ms(l.lat.Quantile(0.50)) }),
		loadRow("**latency p99, ms**", "%.3f", true, func(l *loadResult) float64 { return ms(l.lat.Quantile(0.99)) }),
		loadRow("latency p99.9, ms", "%.3f", true, func(l *loadResult) float64 { return ms(l.lat.Quantile(0.999)) }),
		loadRow("latency max, ms", "%.3f", true, func(l *loadResult) float64 { return ms(l.lat.Max()) }),
		loadRow("latency samples", "%.0f", false, func(l *loadResult) float64 { return float64(l.latSamples) }),
		loadRow("frames sent (all publishers)", "%.0f", false, func(l *loadResult) float64 { return float64(l.sent) }),
		loadRow("deliveries expected", "%.0f", false, func(l *loadResult) float64 { return float64(l.expected) }),
		loadRow("frames lost", "%.0f", false, func(l *loadResult) float64 { return float64(l.expected) - float64(l.received) }),
		loadRow("frames reordered/duplicated", "%.0f", false, func(l *loadResult) float64 { return float64(l.reordered) }),
		loadRow("RSS before load, MiB", "%.1f", true, func(l *loadResult) float64 { return float64(l.rssBase) / (1 << 20) }),
		loadRow("RSS under load, MiB", "%.1f", true, func(l *loadResult) float64 { return float64(l.rssLoad) / (1 << 20) }),
		loadRow("**memory per connection under load, KiB**", "%.1f", true, func(l *loadResult) float64 { return perConnKiB(l.rssLoad-l.rssBase, l.conns) }),
		{label: fmt.Sprintf("**memory per idle connection, KiB** (%d idle)", o.idle), unit: "%.1f", ratio: true, value: func(r serverRun) (float64, bool) {
			if r.idle == nil {
				return 0, false
			}
			return perConnKiB(r.idle.rssIdle-r.idle.rssBase, r.idle.conns), true
		}},
		loadRow("server sleeps per published frame", "%.1f", true, func(l *loadResult) float64 {
			return float64(l.sw.Voluntary) / framesIn(o.load.publishers, l.window)
		}),
		loadRow("server preemptions per published frame", "%.1f", true, func(l *loadResult) float64 {
			return float64(l.sw.Involuntary) / framesIn(o.load.publishers, l.window)
		}),
		loadRow("load generator CPU in window, s", "%.2f", false, func(l *loadResult) float64 { return l.selfCPU.Seconds() }),
	}
}

// report renders the runs as a Markdown table, with a ratio column when
// both servers ran, followed by the relay targets.
func report(o options, runs []serverRun) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n%d publishers × %d subscribers = %d subscriber-streams, %s per server (%s warm-up), %d idle connections\n\n",
		o.load.publishers, o.load.subscribers, o.load.publishers*o.load.subscribers, o.load.duration, o.load.warmup, o.idle)
	if o.env != "" {
		fmt.Fprintf(&b, "flashvox environment: %s\n\n", o.env)
	}
	var fv, ng *serverRun
	b.WriteString("| metric |")
	for i := range runs {
		fmt.Fprintf(&b, " %s |", runs[i].name)
		switch runs[i].name {
		case "flashvox":
			fv = &runs[i]
		case "nginx-rtmp":
			ng = &runs[i]
		}
	}
	both := fv != nil && ng != nil
	if both {
		b.WriteString(" flashvox/nginx |")
	}
	b.WriteString("\n|---|")
	for range runs {
		b.WriteString("---:|")
	}
	if both {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	for _, rw := range rows(o) {
		fmt.Fprintf(&b, "| %s |", rw.label)
		for _, r := range runs {
			if v, ok := rw.value(r); ok {
				fmt.Fprintf(&b, " "+rw.unit+" |", v)
			} else {
				b.WriteString(" – |")
			}
		}
		if both {
			a, okA := rw.value(*fv)
			n, okN := rw.value(*ng)
			if rw.ratio && okA && okN && n != 0 {
				fmt.Fprintf(&b, " %.2f |", a/n)
			} else {
				b.WriteString(" |")
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("\nLoad average over each window (other jobs share the machine):")
	for _, r := range runs {
		if r.load != nil {
			fmt.Fprintf(&b, " %s %s;", r.name, r.load.load)
		}
	}
	b.WriteString("\n")
	if fv != nil {
		b.WriteString("\nTargets, flashvox:\n")
		for _, t := range targets(o, fv, ng) {
			fmt.Fprintf(&b, "- %s\n", t)
		}
	}
	return b.String()
}

func targets(o options, fv, ng *serverRun) []string {
	verdict := func(ok bool) string {
		if ok {
			return "MET"
		}
		return "MISSED"
	}
	var out []string
	if fv.load != nil && ng != nil && ng.load != nil {
		out = append(out, fmt.Sprintf("CPU no more than nginx-rtmp: %s (%.2f s vs %.2f s)",
			verdict(fv.load.serverCPU <= ng.load.serverCPU), fv.load.serverCPU.Seconds(), ng.load.serverCPU.Seconds()))
	}
	if fv.load != nil {
		p99 := fv.load.lat.Quantile(0.99)
		note := ""
		if o.load.publishers*o.load.subscribers < 2000 {
			note = " — the target is stated at 2000 subscriber-streams; this run has fewer"
		}
		out = append(out, fmt.Sprintf("p99 latency under 2 ms: %s (%.3f ms)%s", verdict(p99 < 2*time.Millisecond), ms(p99), note))
	}
	if fv.idle != nil {
		kib := perConnKiB(fv.idle.rssIdle-fv.idle.rssBase, fv.idle.conns)
		out = append(out, fmt.Sprintf("under 40 KiB per idle connection: %s (%.1f KiB)", verdict(kib < 40), kib))
	}
	return out
}
