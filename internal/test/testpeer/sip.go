package testpeer

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testwait"
)

// SippUAS starts sipp's built-in UAS (answers one call, echoes RTP, waits
// for BYE) on a free port and returns it with its "127.0.0.1:PORT".
// Extra arguments come last (e.g. "-sf", "scenario.xml" replaces -sn uas).
func SippUAS(t testing.TB, timeout time.Duration, calls int, extra ...string) (*Proc, string) {
	t.Helper()
	port, mport := FreePort(t), sippMediaPorts(t)
	args := []string{"-i", "127.0.0.1", "-p", strconv.Itoa(port), "-m", strconv.Itoa(calls),
		"-rtp_echo", "-mi", "127.0.0.1", "-mp", strconv.Itoa(mport), "-nostdin"}
	if !hasArg(extra, "-sf") {
		args = append([]string{"-sn", "uas"}, args...)
	}
	args = append(args, extra...)
	p := Start(t, timeout, "sipp", args...)
	// Listening before the caller's first request: a REGISTER sent
	// while sipp was still starting met a closed port, and the
	// registration's retry came after the test's wait (seen in CI).
	testwait.For(t, 10*time.Second, "sipp listening on UDP port "+strconv.Itoa(port), func() bool { return udpBound(port) })
	return p, "127.0.0.1:" + strconv.Itoa(port)
}

// udpBound reports whether a UDP socket is bound to 127.0.0.1:port
// (/proc/net/udp: "sl local_address …", the address in hex, 0100007F
// for 127.0.0.1 on little-endian hosts).
func udpBound(port int) bool {
	b, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		return true // no procfs: do not wait
	}
	want := fmt.Sprintf(":%04X ", port)
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 1 && strings.HasSuffix(f[1]+" ", want) {
			return true
		}
	}
	return false
}

// SippUAC runs sipp as a caller against target ("HOST:PORT") with args
// (e.g. "-sn", "uac" or "-sf", FILE, "-s", NUMBER) and returns at once.
func SippUAC(t testing.TB, timeout time.Duration, target string, args ...string) *Proc {
	t.Helper()
	port, mport := FreePort(t), sippMediaPorts(t)
	all := append([]string{target, "-i", "127.0.0.1", "-p", strconv.Itoa(port),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(mport), "-nostdin"}, args...)
	return Start(t, timeout, "sipp", all...)
}

// sippMediaPorts reserves sipp's media ports: -mp PORT binds PORT (audio)
// and PORT+2 (video), so three are held, not one — another test process
// could otherwise be handed PORT+2 for its own sipp, and the second of
// the two to bind it fails to start.
func sippMediaPorts(t testing.TB) int {
	t.Helper()
	return FreePorts(t, 3, 2)
}

func hasArg(args []string, a string) bool {
	for _, x := range args {
		if x == a {
			return true
		}
	}
	return false
}
