package testpeer

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// Flashvox returns the flashvox binary the process tests run: $TEST_FLASHVOX_BIN
// (not FLASHVOX_…: the server refuses unknown FLASHVOX_ variables, and its
// children inherit the environment)
// when set (make test builds bin/flashvox once and sets it), else one
// build per test binary into a temporary directory.
func Flashvox(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("TEST_FLASHVOX_BIN"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("TEST_FLASHVOX_BIN=%s: %v (make build makes it)", p, err)
		}
		return p
	}
	binOnce.Do(func() {
		_, self, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(self), "..", "..", "..")
		dir, err := os.MkdirTemp("", "flashvox-test-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "flashvox")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/flashvox")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("build flashvox: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}
