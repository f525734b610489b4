package main

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// groupPrefix starts the name of every cgroup the benchmark makes; the
// benchmark's PID follows, so that a later run can tell leftovers of a
// dead run (sweep) from the groups of one still running.
const groupPrefix = "flashvox-clusterscale-"

// cpuGroups makes the nodes' cgroups under one parent: the cgroup v1 cpu
// controller's root directory or the cgroup v2 hierarchy's root.
type cpuGroups struct {
	dir    string // the parent of the groups
	v2     bool
	quota  int // µs per period
	period int // µs
	pid    int // the benchmark's, in the groups' names
}

// cpuGroup is one node's cgroup.
type cpuGroup struct {
	dir string
	v2  bool
}

// quotaMicros is the CPU time per period (µs) that a quota of f cores
// allows. The kernel refuses less than 1 ms per period, and a node pinned
// to one core cannot use more than that core: f is 0.1..1.
func quotaMicros(f float64, period int) (int, error) {
	if math.IsNaN(f) || f < 0.1 || f > 1 {
		return 0, fmt.Errorf("-quota %v: a fraction of one core, 0.1..1 (0: no quota)", f)
	}
	q := int(math.Round(f * float64(period)))
	if q < 1000 || period > 1000000 {
		return 0, fmt.Errorf("-quota %v of -period %vµs: %dµs per period; the kernel takes 1 ms to 1 s", f, period, q)
	}
	return q, nil
}

// openCPUGroups finds the cgroup hierarchy under root (/sys/fs/cgroup),
// v2 when root is its mount (cgroup.controllers), else the v1 cpu
// controller at root/cpu; removes the empty groups that dead runs left;
// and makes and removes a probe group, so that a run without the right
// to make groups fails before its first node rather than running
// without a quota.
func openCPUGroups(root string, quota float64, period time.Duration, pid int) (*cpuGroups, error) {
	q, err := quotaMicros(quota, int(period.Microseconds()))
	if err != nil {
		return nil, err
	}
	g := &cpuGroups{quota: q, period: int(period.Microseconds()), pid: pid}
	if ctl, err := os.ReadFile(filepath.Join(root, "cgroup.controllers")); err == nil {
		if !slices.Contains(strings.Fields(string(ctl)), "cpu") {
			return nil, fmt.Errorf("cgroup v2 at %s: no cpu controller in cgroup.controllers (%q)", root, strings.TrimSpace(string(ctl)))
		}
		g.dir, g.v2 = root, true
	} else if _, err := os.Stat(filepath.Join(root, "cpu", "cpu.cfs_quota_us")); err == nil {
		g.dir = filepath.Join(root, "cpu")
	} else {
		return nil, fmt.Errorf("-quota needs cgroups: neither cgroup v2 (%s) nor the cgroup v1 cpu controller (%s) is mounted",
			filepath.Join(root, "cgroup.controllers"), filepath.Join(root, "cpu", "cpu.cfs_quota_us"))
	}
	if g.v2 {
		if err := g.enableCPU(); err != nil {
			return nil, err
		}
	}
	g.sweep()
	probe, err := g.make("probe")
	if err != nil {
		return nil, err
	}
	if err := probe.remove(); err != nil {
		return nil, err
	}
	return g, nil
}

// enableCPU turns on the cpu controller for the root's children (v2: a
// group only has cpu.max when its parent delegates the controller).
func (g *cpuGroups) enableCPU() error {
	ctl := filepath.Join(g.dir, "cgroup.subtree_control")
	b, err := os.ReadFile(ctl)
	if err != nil {
		return fmt.Errorf("cgroup v2: %w", err)
	}
	if slices.Contains(strings.Fields(string(b)), "cpu") {
		return nil
	}
	if err := writeFile(ctl, "+cpu"); err != nil {
		return fmt.Errorf("cgroup v2: enable the cpu controller for %s's children: %w", g.dir, err)
	}
	return nil
}

// sweep removes the groups of runs whose process is gone (killed before
// they could remove theirs). A group still holding a process is not
// removed: the kernel refuses, and the error is ignored.
func (g *cpuGroups) sweep() {
	ents, _ := os.ReadDir(g.dir)
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), groupPrefix)
		if !ok || !e.IsDir() {
			continue
		}
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || syscall.Kill(pid, 0) != syscall.ESRCH {
			continue // not a benchmark's name, or its run is alive (this one too)
		}
		_ = syscall.Rmdir(filepath.Join(g.dir, e.Name()))
	}
}

// String says what limits the nodes, for the run's heading.
func (g *cpuGroups) String() string {
	v := "v1"
	if g.v2 {
		v = "v2"
	}
	return fmt.Sprintf("CPU quota %.2f core per node (cgroup %s, %d µs per %d µs)", float64(g.quota)/float64(g.period), v, g.quota, g.period)
}

// make creates the group named name with the quota; a failure removes
// what it made.
func (g *cpuGroups) make(name string) (*cpuGroup, error) {
	c := &cpuGroup{dir: filepath.Join(g.dir, groupPrefix+strconv.Itoa(g.pid)+"-"+name), v2: g.v2}
	if err := os.Mkdir(c.dir, 0o755); err != nil {
		return nil, fmt.Errorf("cgroup: make %s (root needed): %w", c.dir, err)
	}
	var err error
	if g.v2 {
		err = writeFile(filepath.Join(c.dir, "cpu.max"), fmt.Sprintf("%d %d", g.quota, g.period))
	} else if err = writeFile(filepath.Join(c.dir, "cpu.cfs_period_us"), strconv.Itoa(g.period)); err == nil {
		err = writeFile(filepath.Join(c.dir, "cpu.cfs_quota_us"), strconv.Itoa(g.quota))
	}
	if err != nil {
		_ = syscall.Rmdir(c.dir)
		return nil, fmt.Errorf("cgroup: limit %s: %w", c.dir, err)
	}
	return c, nil
}

// limit puts the process pid (all its threads) in a new group named name.
func (g *cpuGroups) limit(name string, pid int) (*cpuGroup, error) {
	c, err := g.make(name)
	if err != nil {
		return nil, err
	}
	if err := writeFile(filepath.Join(c.dir, "cgroup.procs"), strconv.Itoa(pid)); err != nil {
		_ = c.remove()
		return nil, fmt.Errorf("cgroup: move process %d into %s: %w", pid, c.dir, err)
	}
	return c, nil
}

// throttled is the time the group's processes were held back by the
// quota so far; 0 for a nil group (no quota).
func (c *cpuGroup) throttled() (time.Duration, error) {
	if c == nil {
		return 0, nil
	}
	b, err := os.ReadFile(filepath.Join(c.dir, "cpu.stat"))
	if err != nil {
		return 0, fmt.Errorf("cgroup: %w", err)
	}
	d, err := parseThrottled(string(b), c.v2)
	if err != nil {
		return 0, fmt.Errorf("cgroup: %s: %w", filepath.Join(c.dir, "cpu.stat"), err)
	}
	return d, nil
}

// parseThrottled reads the throttled time from a cpu.stat: v1's
// throttled_time is in ns, v2's throttled_usec in µs.
func parseThrottled(stat string, v2 bool) (time.Duration, error) {
	key, unit := "throttled_time", time.Nanosecond
	if v2 {
		key, unit = "throttled_usec", time.Microsecond
	}
	sc := bufio.NewScanner(strings.NewReader(stat))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 || f[0] != key {
			continue
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || n < 0 || n > math.MaxInt64/int64(unit) {
			return 0, fmt.Errorf("%s: bad value %q", key, f[1])
		}
		return time.Duration(n) * unit, nil
	}
	return 0, fmt.Errorf("no %s", key)
}

// remove deletes the group once its processes have exited; nil does
// nothing. The kernel may still count a process that has just been
// reaped (EBUSY), so it retries for up to 2 s.
func (c *cpuGroup) remove() error {
	if c == nil {
		return nil
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		err := syscall.Rmdir(c.dir)
		if err == nil || errors.Is(err, syscall.ENOENT) {
			return nil
		}
		if !errors.Is(err, syscall.EBUSY) || time.Now().After(deadline) {
			return fmt.Errorf("cgroup: remove %s: %w", c.dir, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// writeFile writes a control file, which must exist: cgroup files are
// made by the kernel, so a missing one is a wrong directory.
func writeFile(path, value string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(value); err != nil {
		f.Close()
		return fmt.Errorf("write %q to %s: %w", value, path, err)
	}
	return f.Close()
}
