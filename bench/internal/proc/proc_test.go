package proc

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary serve as a child server: with
// PROC_TEST_LISTEN set it listens there until SIGTERM.
func TestMain(m *testing.M) {
	if addr := os.Getenv("PROC_TEST_LISTEN"); addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			os.Exit(3)
		}
		defer ln.Close()
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM)
		<-sig
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestParseProc(t *testing.T) {
	// comm with a space and a ')' as a process may name itself.
	stat := "4242 (ng inx) x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 1 0 100 1000000 500 18446744073709551615"
	cpu, err := ParseCPU(stat)
	if err != nil || cpu != 3250*time.Millisecond {
		t.Errorf("ParseCPU = %v, %v; want 3.25s (325 ticks)", cpu, err)
	}
	if _, err := ParseCPU("4242 (x) S 1 2"); err == nil {
		t.Error("short stat parsed")
	}
	rss, err := ParseRSS("Name:\tnginx\nVmPeak:\t  9000 kB\nVmRSS:\t   12345 kB\nThreads:\t1\n")
	if err != nil || rss != 12345*1024 {
		t.Errorf("ParseRSS = %d, %v; want %d", rss, err, 12345*1024)
	}
	if _, err := ParseRSS("Name:\tx\n"); err == nil {
		t.Error("status without VmRSS parsed")
	}
}

func TestParseSwitches(t *testing.T) {
	if s := ParseSwitches("Name:\tflashvox\nvoluntary_ctxt_switches:\t12\nnonvoluntary_ctxt_switches:\t345\n"); s != (Switches{12, 345}) {
		t.Errorf("ParseSwitches = %+v, want {12 345}", s)
	}
	if s := ParseSwitches("voluntary_ctxt_switches:\tmany\nnonvoluntary_ctxt_switches:\t7\n"); s != (Switches{0, 7}) {
		t.Errorf("ParseSwitches of garbage = %+v, want {0 7}", s)
	}
	if s := ReadSwitches(os.Getpid()); s.Voluntary+s.Involuntary == 0 {
		t.Error("the test process has no context switches")
	}
}

// The test process itself: CPU grows with work, RSS covers a live buffer.
func TestSelf(t *testing.T) {
	c0, err := CPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; {
		c1, err := SelfCPU()
		if err != nil {
			t.Fatal(err)
		}
		if c1 > c0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("CPU stayed at %v while spinning for a minute", c1)
		}
		for i := 0; i < 1e6; i++ {
			_ = strconv.Itoa(i)
		}
	}
	buf := make([]byte, 32<<20)
	for i := range buf {
		buf[i] = 1 // touched, so resident
	}
	rss, err := RSS(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if rss < int64(len(buf)) {
		t.Errorf("RSS %d below the %d-byte buffer", rss, len(buf))
	}
	if l := LoadAvg(); l == "?" {
		t.Error("no load average")
	}
}

func TestFreePorts(t *testing.T) {
	p, err := FreePort()
	if err != nil || p <= 0 {
		t.Fatalf("FreePort = %d, %v", p, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
	if err != nil {
		t.Fatalf("port %d not free: %v", p, err)
	}
	defer ln.Close()
	if err := WaitTCP(ln.Addr().String(), 10*time.Second, nil); err != nil {
		t.Errorf("WaitTCP on a listener: %v", err)
	}
	u, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(u))
	if err != nil {
		t.Fatalf("UDP port %d not free: %v", u, err)
	}
	pc.Close()
	a, err := FreeAddr()
	if err != nil || !strings.HasPrefix(a, "127.0.0.1:") {
		t.Errorf("FreeAddr = %q, %v", a, err)
	}
}

func TestMetrics(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("# HELP x\nfv_hs_ok 3\nother 1\nfv_hs_fail 0\n"))
	}))
	defer ts.Close()
	if got, want := Metrics(ts.URL, "fv_hs_"), "fv_hs_ok 3; fv_hs_fail 0"; got != want {
		t.Errorf("Metrics = %q, want %q", got, want)
	}
}

func TestChild(t *testing.T) {
	addr, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PROC_TEST_LISTEN="+addr)
	dir, cleanup, err := WorkDir("proc-test-", false)
	if err != nil {
		t.Fatal(err)
	}
	c, err := StartLogged(cmd, "child", addr, syscall.SIGTERM, filepath.Join(dir, "child.log"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.Log); err != nil {
		t.Errorf("no log file: %v", err)
	}
	if _, err := c.RSS(); err != nil {
		t.Errorf("child RSS: %v", err)
	}
	c.Stop()
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("child exit code %d, want 0 (stopped by SIGTERM, not killed)", code)
	}

	// A server that dies at start is reported, not waited for 10 s.
	if _, err := Start(exec.CommandContext(ctx, os.Args[0], "-test.run=^$"), "quitter", addr, syscall.SIGTERM); err == nil {
		t.Error("Start of a child that exits at once succeeded")
	} else if !strings.Contains(err.Error(), "exited before listening") {
		t.Errorf("err = %v, want exited before listening", err)
	}
	cleanup()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("work directory left after cleanup: %v", err)
	}
}
