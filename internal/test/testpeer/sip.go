package testpeer

import (
	"strconv"
	"testing"
	"time"
)

// SippUAS starts sipp's built-in UAS (answers one call, echoes RTP, waits
// for BYE) on a free port and returns it with its "127.0.0.1:PORT".
// Extra arguments come last (e.g. "-sf", "scenario.xml" replaces -sn uas).
func SippUAS(t testing.TB, timeout time.Duration, calls int, extra ...string) (*Proc, string) {
	t.Helper()
	port, mport := FreePort(t), FreePort(t)
	args := []string{"-i", "127.0.0.1", "-p", strconv.Itoa(port), "-m", strconv.Itoa(calls),
		"-rtp_echo", "-mi", "127.0.0.1", "-mp", strconv.Itoa(mport), "-nostdin"}
	if !hasArg(extra, "-sf") {
		args = append([]string{"-sn", "uas"}, args...)
	}
	args = append(args, extra...)
	p := Start(t, timeout, "sipp", args...)
	return p, "127.0.0.1:" + strconv.Itoa(port)
}

// SippUAC runs sipp as a caller against target ("HOST:PORT") with args
// (e.g. "-sn", "uac" or "-sf", FILE, "-s", NUMBER) and returns at once.
func SippUAC(t testing.TB, timeout time.Duration, target string, args ...string) *Proc {
	t.Helper()
	port, mport := FreePort(t), FreePort(t)
	all := append([]string{target, "-i", "127.0.0.1", "-p", strconv.Itoa(port),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(mport), "-nostdin"}, args...)
	return Start(t, timeout, "sipp", all...)
}

func hasArg(args []string, a string) bool {
	for _, x := range args {
		if x == a {
			return true
		}
	}
	return false
}
