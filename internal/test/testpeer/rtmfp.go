package testpeer

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// rtmfpTools are the rtmfp-cpp command-line peers rtmfp/rtmfp-tools.sh builds.
var rtmfpTools = []string{"tcpublish", "tcconn", "fcclient", "tcserver"}

var rtmfpOnce struct {
	sync.Mutex
	dir string
}

// RTMFPTools returns the directory holding rtmfp-cpp's tcpublish, tcconn,
// fcclient and tcserver. FLASHVOX_RTMFP_TOOLS may name a directory that has
// them; otherwise they are built once (about 35 s) from the snapshot in
// internal/testpeer/rtmfp into the user cache directory. A build that
// cannot run fails the test with the install command.
func RTMFPTools(t testing.TB) string {
	t.Helper()
	SkipShort(t, "rtmfp-cpp")
	if d := os.Getenv("FLASHVOX_RTMFP_TOOLS"); d != "" {
		if haveTools(d) {
			return d
		}
		t.Fatalf("FLASHVOX_RTMFP_TOOLS=%s lacks %v: run internal/testpeer/rtmfp/rtmfp-tools.sh %s", d, rtmfpTools, d)
	}
	rtmfpOnce.Lock()
	defer rtmfpOnce.Unlock()
	if rtmfpOnce.dir != "" {
		return rtmfpOnce.dir
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "flashvox", "rtmfp-tools")
	if !haveTools(dir) {
		for _, bin := range []string{"g++", "make"} {
			if _, err := exec.LookPath(bin); err != nil {
				t.Fatalf("%s is needed to build rtmfp-cpp's test peers: apt-get install -y g++ make libssl-dev", bin)
			}
		}
		if _, err := os.Stat("/usr/include/openssl/dh.h"); err != nil {
			t.Fatalf("OpenSSL headers are needed to build rtmfp-cpp's test peers: apt-get install -y libssl-dev")
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatalf("rtmfp tools: %v", err)
		}
		// One build at a time across test binaries running in parallel.
		lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			t.Fatalf("rtmfp tools: %v", err)
		}
		defer lock.Close()
		if err := lockFile(lock); err != nil {
			t.Fatalf("rtmfp tools: lock: %v", err)
		}
		_, self, _, _ := runtime.Caller(0)
		script := filepath.Join(filepath.Dir(self), "rtmfp", "rtmfp-tools.sh")
		if out, err := Run(t, 5*time.Minute, "bash", script, dir); err != nil {
			t.Fatalf("building rtmfp-cpp's tools failed (needs: apt-get install -y g++ make libssl-dev): %v\n%s", err, out)
		}
	}
	rtmfpOnce.dir = dir
	return dir
}

func haveTools(dir string) bool {
	for _, t := range rtmfpTools {
		if st, err := os.Stat(filepath.Join(dir, t)); err != nil || st.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}
