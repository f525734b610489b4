// Package freeport hands out ports on 127.0.0.1 to the real peers that
// cannot bind port 0 and report what they got (nginx, sipp, baresip,
// tcserver, PostgreSQL).
//
// "Listen on :0, close, pass the number on" races: between the close and the
// child's bind the kernel may give the same port to any other port-0 bind
// of the machine (the test binaries of other packages run at the same time).
// So the ports come from a block below Linux's ephemeral range (32768–60999
// by default: the kernel never picks them for a port-0 bind) and above the
// server's default RTP range (20000–20999), and test processes share the
// block through lock files holding their PID: a port is handed to one
// process at a time, and a lock left by a process that died is taken over.
package freeport

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// The block ports come from.
const (
	Low  = 21000
	High = 30000 // exclusive
)

var (
	mu   sync.Mutex
	held = map[int]bool{} // ports this process holds
)

// Reserve returns n consecutive ports starting at a multiple of align (1 or
// 2: RTP wants an even first port), each free for TCP and UDP on
// 127.0.0.1, and held for this process until release is called (or the
// process ends).
func Reserve(n, align int) (first int, release func(), err error) {
	if n < 1 || n > 1000 || align < 1 || align > 2 {
		return 0, nil, fmt.Errorf("freeport: %d ports aligned to %d: out of range", n, align)
	}
	dir := filepath.Join(os.TempDir(), "flashvox-test-ports")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return 0, nil, fmt.Errorf("freeport: %w", err)
	}
	mu.Lock()
	defer mu.Unlock()
	span := (High - Low - n) / align
	start := rand.IntN(span)
	for i := range span {
		first = Low + ((start+i)%span)*align
		if release, ok := take(dir, first, n); ok {
			return first, release, nil
		}
	}
	return 0, nil, errors.New("freeport: no free ports left in the block")
}

// take locks first..first+n-1 and checks they are free; mu is held.
func take(dir string, first, n int) (release func(), ok bool) {
	var got []int
	for p := first; p < first+n; p++ {
		if held[p] || !lock(dir, p) {
			unlock(dir, got)
			return nil, false
		}
		got = append(got, p)
		held[p] = true
		if !bindable(p) {
			unlock(dir, got)
			return nil, false
		}
	}
	return func() {
		mu.Lock()
		defer mu.Unlock()
		unlock(dir, got)
	}, true
}

// unlock gives ports back; mu is held.
func unlock(dir string, ports []int) {
	for _, p := range ports {
		delete(held, p)
		_ = os.Remove(lockPath(dir, p))
	}
}

func lockPath(dir string, port int) string {
	return filepath.Join(dir, strconv.Itoa(port))
}

// lock creates the port's lock file, or takes it over from a dead process.
func lock(dir string, port int) bool {
	path := lockPath(dir, port)
	for range 2 {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		if err == nil {
			_, werr := f.WriteString(strconv.Itoa(os.Getpid()))
			return f.Close() == nil && werr == nil
		}
		if !errors.Is(err, os.ErrExist) {
			return false
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return false
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err == nil && pid != os.Getpid() && alive(pid) {
			return false
		}
		_ = os.Remove(path) // stale: its process is gone
	}
	return false
}

// bindable reports whether TCP and UDP can bind 127.0.0.1:port now.
func bindable(port int) bool {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	_ = ln.Close()
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return false
	}
	_ = pc.Close()
	return true
}

// alive reports whether process pid exists. The real peers run on Linux
// only (Debian packages); elsewhere every lock counts as stale.
func alive(pid int) bool {
	_, err := os.Stat("/proc/" + strconv.Itoa(pid))
	return err == nil
}
