package proc

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Switches are a process's context switches summed over its threads
// (/proc/PID/task/*/status): voluntary ones are a thread going to sleep
// (epoll, a Go runtime thread parking: a hand-off that found nothing else
// to run), involuntary ones the kernel switching it out while it could
// run. Unlike CPU time they hardly grow with the machine's other load,
// so per frame they compare builds run at different moments.
type Switches struct{ Voluntary, Involuntary int64 }

// Sub is s − o.
func (s Switches) Sub(o Switches) Switches {
	return Switches{s.Voluntary - o.Voluntary, s.Involuntary - o.Involuntary}
}

// Add is s + o.
func (s Switches) Add(o Switches) Switches {
	return Switches{s.Voluntary + o.Voluntary, s.Involuntary + o.Involuntary}
}

// ReadSwitches sums the switch counters of every thread of pid; threads
// that exit in between are missed (a Go server keeps its threads).
func ReadSwitches(pid int) Switches {
	var s Switches
	tasks, _ := filepath.Glob(filepath.Join("/proc", strconv.Itoa(pid), "task", "*", "status"))
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		s = s.Add(ParseSwitches(string(b)))
	}
	return s
}

// ParseSwitches reads the two ctxt_switches lines of a status file; a
// missing or unreadable one counts 0.
func ParseSwitches(status string) Switches {
	var s Switches
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
			s.Voluntary = n
		case "nonvoluntary_ctxt_switches":
			s.Involuntary = n
		}
	}
	return s
}
