package freeport

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func TestReserve(t *testing.T) {
	seen := map[int]bool{}
	var releases []func()
	for range 50 {
		p, release, err := Reserve(2, 2)
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, release)
		if p%2 != 0 || p < Low || p+1 >= High {
			t.Fatalf("port %d: not even or outside %d–%d", p, Low, High)
		}
		for _, q := range []int{p, p + 1} {
			if seen[q] {
				t.Fatalf("port %d handed out twice", q)
			}
			seen[q] = true
		}
	}
	// A port handed out is held: nobody else in the block gets it, even
	// after something else grabbed and released the number.
	p, release, err := Reserve(1, 1)
	if err != nil {
		t.Fatal(err)
	}
	lockFile := filepath.Join(os.TempDir(), "flashvox-test-ports", strconv.Itoa(p))
	if b, err := os.ReadFile(lockFile); err != nil || string(b) != strconv.Itoa(os.Getpid()) {
		t.Fatalf("lock file %s: %q, %v", lockFile, b, err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	if err != nil {
		t.Fatalf("reserved port %d not bindable: %v", p, err)
	}
	ln.Close()
	release()
	if _, err := os.Stat(lockFile); !os.IsNotExist(err) {
		t.Fatalf("lock file left after release: %v", err)
	}
	for _, r := range releases {
		r()
	}
}

// TestStaleLockTakenOver: a lock left by a process that is gone does not
// keep its port; one held by a live process does.
func TestStaleLockTakenOver(t *testing.T) {
	dir := filepath.Join(os.TempDir(), "flashvox-test-ports")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	p, release, err := Reserve(1, 1)
	if err != nil {
		t.Fatal(err)
	}
	release()
	path := filepath.Join(dir, strconv.Itoa(p))
	if err := os.WriteFile(path, []byte("1"), 0o666); err != nil { // PID 1 is alive
		t.Fatal(err)
	}
	if lock(dir, p) {
		t.Fatal("took a port locked by a live process")
	}
	if err := os.WriteFile(path, []byte("999999999"), 0o666); err != nil { // no such process
		t.Fatal(err)
	}
	if !lock(dir, p) {
		t.Fatal("a dead process's lock was not taken over")
	}
	unlock(dir, []int{p})
}
