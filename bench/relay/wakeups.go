package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// switches are a process's context switches summed over its threads
// (/proc/PID/task/*/status): voluntary ones are the server going to sleep
// (waiting in epoll, a Go runtime thread parking), involuntary ones are the
// kernel switching it out while it could run, mostly a player it has just
// woken with a send taking its CPU. Per frame they say how many wake-ups
// and preemptions one relayed frame costs (BENCHMARKS.md).
type switches struct {
	voluntary, involuntary int64
}

func (s switches) sub(o switches) switches {
	return switches{s.voluntary - o.voluntary, s.involuntary - o.involuntary}
}

// readSwitches sums the switch counters of every thread of pid; threads
// that exit in between are simply missed (a Go server keeps its threads).
func readSwitches(pid int) switches {
	var s switches
	tasks, _ := filepath.Glob(filepath.Join("/proc", strconv.Itoa(pid), "task", "*", "status"))
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		s = s.add(parseSwitches(string(b)))
	}
	return s
}

func (s switches) add(o switches) switches {
	return switches{s.voluntary + o.voluntary, s.involuntary + o.involuntary}
}

// parseSwitches reads the two ctxt_switches lines of a status file.
func parseSwitches(status string) switches {
	var s switches
	for line := range strings.SplitSeq(status, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "voluntary_ctxt_switches":
			s.voluntary = n
		case "nonvoluntary_ctxt_switches":
			s.involuntary = n
		}
	}
	return s
}

// framesIn is how many frames p publishers produce in window, one every
// frameEvery each (the lean load's pace and the tone FLV's: 256 samples
// of Nellymoser at 16 kHz).
func framesIn(p int, window time.Duration) float64 {
	return float64(p) * float64(window) / float64(frameEvery)
}

// perFrame formats a window's switches per published frame.
func (s switches) perFrame(p int, window time.Duration) string {
	f := framesIn(p, window)
	if f <= 0 {
		return "–"
	}
	return strconv.FormatFloat(float64(s.voluntary)/f, 'f', 1, 64) + " + " +
		strconv.FormatFloat(float64(s.involuntary)/f, 'f', 1, 64)
}
