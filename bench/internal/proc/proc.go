// Package proc holds what the load generators under bench/ share: reading
// a process's CPU time and resident memory from /proc (proc(5)), the
// machine's load average, free loopback ports, Prometheus text scraping,
// and running the server under test as a child process.
package proc

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/flashvox/flashvox/internal/test/freeport"
)

// clockTicks is USER_HZ, the unit of utime/stime in /proc/PID/stat (100 on
// every Linux architecture Go supports).
const clockTicks = 100

// ParseCPU returns utime+stime of a /proc/PID/stat line. The command name
// (field 2) is parenthesised and may hold spaces and parentheses, so fields
// are counted after the last ')'.
func ParseCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("stat: no ')' in %q", stat)
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state); utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("stat: %d fields after comm", len(f))
	}
	u, err := strconv.ParseUint(f[11], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stat utime: %w", err)
	}
	s, err := strconv.ParseUint(f[12], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stat stime: %w", err)
	}
	return time.Duration(u+s) * time.Second / clockTicks, nil
}

// ParseRSS returns VmRSS in bytes from /proc/PID/status.
func ParseRSS(status string) (int64, error) {
	for line := range strings.Lines(status) {
		rest, ok := strings.CutPrefix(line, "VmRSS:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("status: odd VmRSS line %q", line)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("status VmRSS: %w", err)
		}
		return kb << 10, nil
	}
	return 0, errors.New("status: no VmRSS")
}

// CPU is process pid's utime+stime so far.
func CPU(pid int) (time.Duration, error) { return cpuOf(strconv.Itoa(pid)) }

// SelfCPU is this process's utime+stime so far (the load generator's own
// cost, reported beside the server's).
func SelfCPU() (time.Duration, error) { return cpuOf("self") }

func cpuOf(pid string) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, err
	}
	return ParseCPU(string(b))
}

// RSS is process pid's VmRSS in bytes.
func RSS(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	return ParseRSS(string(b))
}

// LoadAvg is the first field of /proc/loadavg (other jobs share the
// machine), "?" when unreadable.
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

// FreePort is a port on 127.0.0.1 free for TCP and UDP, held for this
// process (internal/test/freeport: no close/rebind race with the kernel's
// port-0 binds).
func FreePort() (int, error) {
	p, _, err := freeport.Reserve(1, 1)
	return p, err
}

// FreeAddr is "127.0.0.1:port" of a FreePort.
func FreeAddr() (string, error) {
	p, err := FreePort()
	if err != nil {
		return "", err
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(p)), nil
}

// Metrics returns the lines of the Prometheus text at url that start with
// prefix, joined by "; ", or the error's text (it goes into a report).
func Metrics(url, prefix string) string {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return err.Error()
	}
	var out []string
	for line := range strings.Lines(string(b)) {
		if strings.HasPrefix(line, prefix) {
			out = append(out, strings.TrimSpace(line))
		}
	}
	return strings.Join(out, "; ")
}
