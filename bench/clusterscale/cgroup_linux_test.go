package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestQuotaMicros(t *testing.T) {
	for _, c := range []struct {
		f    float64
		want int // 0: refused
	}{
		{0.4, 4000}, {0.3, 3000}, {0.1, 1000}, {1, 10000}, {0.333, 3330}, {0.45678, 4568},
		{0, 0}, {0.05, 0}, {0.0999, 0}, {1.01, 0}, {2, 0}, {-0.4, 0},
	} {
		got, err := quotaMicros(c.f, 10000)
		if c.want == 0 {
			if err == nil || !strings.Contains(err.Error(), "0.1..1") {
				t.Errorf("quotaMicros(%v) = %d, %v; want an error naming the range", c.f, got, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("quotaMicros(%v) = %d, %v; want %d", c.f, got, err, c.want)
		}
	}
	// A short period: the kernel's 1 ms floor of quota per period.
	if got, err := quotaMicros(0.25, 4000); err != nil || got != 1000 {
		t.Errorf("quotaMicros(0.25, 4 ms) = %d, %v; want 1000", got, err)
	}
	if got, err := quotaMicros(0.25, 2000); err == nil || !strings.Contains(err.Error(), "1 ms") {
		t.Errorf("quotaMicros(0.25, 2 ms) = %d, %v; want an error naming the floor", got, err)
	}
}

func TestParseThrottled(t *testing.T) {
	v1 := "nr_periods 1200\nnr_throttled 340\nthrottled_time 2345678901\nnr_bursts 0\nburst_time 0\n"
	v2 := "usage_usec 9000000\nuser_usec 6000000\nsystem_usec 3000000\nnr_periods 1200\nnr_throttled 340\nthrottled_usec 2345678\nnr_bursts 0\nburst_usec 0\n"
	for _, c := range []struct {
		name, stat string
		v2         bool
		want       time.Duration
		err        string
	}{
		{"v1", v1, false, 2345678901 * time.Nanosecond, ""},
		{"v2", v2, true, 2345678 * time.Microsecond, ""},
		{"v1 never throttled", "nr_periods 0\nnr_throttled 0\nthrottled_time 0\n", false, 0, ""},
		{"v2 file read as v1", v2, false, 0, "no throttled_time"},
		{"v1 file read as v2", v1, true, 0, "no throttled_usec"},
		{"empty", "", false, 0, "no throttled_time"},
		{"not a number", "throttled_time 12x\n", false, 0, "bad value"},
		{"negative", "throttled_usec -5\n", true, 0, "bad value"},
		{"overflows a duration", "throttled_usec 9223372036854776\n", true, 0, "bad value"},
	} {
		got, err := parseThrottled(c.stat, c.v2)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: %v, %v; want an error with %q", c.name, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: %v, %v; want %v", c.name, got, err, c.want)
		}
	}
}

func TestOpenCPUGroupsNoCgroups(t *testing.T) {
	root := t.TempDir()
	_, err := openCPUGroups(root, 0.4, defaultPeriod, os.Getpid())
	if err == nil {
		t.Fatal("an empty root was taken for a cgroup hierarchy")
	}
	for _, want := range []string{filepath.Join(root, "cgroup.controllers"), filepath.Join(root, "cpu", "cpu.cfs_quota_us"), "is mounted"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if _, err := openCPUGroups(filepath.Join(root, "absent"), 0.4, defaultPeriod, os.Getpid()); err == nil {
		t.Error("an absent root was taken for a cgroup hierarchy")
	}
	if _, err := openCPUGroups(root, 0.05, defaultPeriod, os.Getpid()); err == nil || !strings.Contains(err.Error(), "-quota") {
		t.Errorf("a quota below the kernel's 1 ms per period: %v", err)
	}
}

func TestOpenCPUGroupsV2WithoutCPU(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "cgroup.controllers"), "cpuset io memory pids\n")
	_, err := openCPUGroups(root, 0.4, defaultPeriod, os.Getpid())
	if err == nil || !strings.Contains(err.Error(), "no cpu controller") {
		t.Fatalf("v2 without the cpu controller: %v", err)
	}
}

// A directory that looks like the hierarchy but is no cgroupfs: the
// kernel makes no control files in a new group, so the probe fails and
// nothing is left behind.
func TestOpenCPUGroupsProbeFails(t *testing.T) {
	t.Run("v1", func(t *testing.T) {
		root := t.TempDir()
		write(t, filepath.Join(root, "cpu", "cpu.cfs_quota_us"), "-1\n")
		_, err := openCPUGroups(root, 0.4, defaultPeriod, os.Getpid())
		if err == nil || !strings.Contains(err.Error(), "cpu.cfs_period_us") {
			t.Fatalf("v1 probe in a plain directory: %v", err)
		}
		assertNoGroups(t, filepath.Join(root, "cpu"))
	})
	t.Run("v2", func(t *testing.T) {
		root := t.TempDir()
		write(t, filepath.Join(root, "cgroup.controllers"), "cpuset cpu io memory\n")
		write(t, filepath.Join(root, "cgroup.subtree_control"), "memory\n")
		_, err := openCPUGroups(root, 0.4, defaultPeriod, os.Getpid())
		if err == nil || !strings.Contains(err.Error(), "cpu.max") {
			t.Fatalf("v2 probe in a plain directory: %v", err)
		}
		if b, _ := os.ReadFile(filepath.Join(root, "cgroup.subtree_control")); string(b) != "+cpu" {
			t.Errorf("subtree_control %q: the cpu controller was not enabled for the children", b)
		}
		assertNoGroups(t, root)
	})
}

func TestSweep(t *testing.T) {
	dir := t.TempDir()
	dead := groupPrefix + "2147483647-one-a" // above any pid_max: no such process
	own := groupPrefix + strconv.Itoa(os.Getpid()) + "-one-a"
	alive := groupPrefix + strconv.Itoa(os.Getppid()) + "-two-b"
	for _, name := range []string{dead, own, alive, "other", groupPrefix + "x-one-a"} {
		if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	deadFull := groupPrefix + "2147483646-two-a" // a group still holding something is kept
	write(t, filepath.Join(dir, deadFull, "cgroup.procs"), "123\n")
	(&cpuGroups{dir: dir, pid: os.Getpid()}).sweep()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range ents {
		left = append(left, e.Name())
	}
	want := []string{deadFull, alive, own, groupPrefix + "x-one-a", "other"}
	slices.Sort(want) // ReadDir's order
	if strings.Join(left, " ") != strings.Join(want, " ") {
		t.Errorf("after the sweep: %v; want %v (only the dead run's empty group removed)", left, want)
	}
}

func TestGroupRemoveAndThrottled(t *testing.T) {
	var none *cpuGroup
	if d, err := none.throttled(); d != 0 || err != nil {
		t.Errorf("no group: throttled %v, %v", d, err)
	}
	if err := none.remove(); err != nil {
		t.Errorf("no group: remove: %v", err)
	}
	dir := filepath.Join(t.TempDir(), groupPrefix+"1-one-a")
	write(t, filepath.Join(dir, "cpu.stat"), "usage_usec 5\nthrottled_usec 1500\n")
	g := &cpuGroup{dir: dir, v2: true}
	if d, err := g.throttled(); d != 1500*time.Microsecond || err != nil {
		t.Errorf("throttled %v, %v; want 1.5ms", d, err)
	}
	g.v2 = false
	if _, err := g.throttled(); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "cpu.stat")) {
		t.Errorf("a cpu.stat without the key: %v; want an error naming the file", err)
	}
	start := time.Now()
	if err := g.remove(); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("remove of a directory that is not empty: %v; want an error naming it", err)
	}
	if time.Since(start) > time.Second {
		t.Errorf("remove retried %v on an error other than EBUSY", time.Since(start))
	}
	if err := os.Remove(filepath.Join(dir, "cpu.stat")); err != nil {
		t.Fatal(err)
	}
	if err := g.remove(); err != nil {
		t.Fatalf("remove: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the group's directory is still there: %v", err)
	}
	if err := g.remove(); err != nil {
		t.Errorf("a second remove: %v", err)
	}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func assertNoGroups(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), groupPrefix) {
			t.Errorf("%s left behind", e.Name())
		}
	}
}
