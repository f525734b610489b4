// Package netns builds throwaway network topologies out of Linux network
// namespaces (ip netns, veth pairs, nftables) for tests that need real
// routers and NATs between real processes. Every namespace a test creates
// has a unique name (fvx-<pid>-<n>-…) and is deleted when the test ends,
// after the processes started in it have been stopped by their PID.
//
// It needs root and the iproute2 and nftables packages; a test that cannot
// have them fails with the command that fixes it, it is never skipped.
package netns

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testpeer"
)

// seq makes namespace names unique between the tests of one process.
var seq atomic.Uint64

// tools maps each binary the package runs to the Debian package with it.
var tools = map[string]string{"ip": "iproute2", "nft": "nftables"}

// Net is one test's set of namespaces.
type Net struct {
	t      testing.TB
	prefix string
}

// New checks that namespaces can be made here (root, ip, nft) and returns
// an empty Net whose namespaces are deleted at the end of the test.
func New(t testing.TB) *Net {
	t.Helper()
	testpeer.SkipShort(t, "network namespaces")
	if os.Geteuid() != 0 {
		t.Fatal("network namespace tests need root (ip netns, nftables); run them as root")
	}
	for bin, pkg := range tools {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("%s is required for network namespace tests and is missing: apt-get install -y %s (or make deps)", bin, pkg)
		}
	}
	return &Net{t: t, prefix: fmt.Sprintf("fvx-%d-%d-", os.Getpid(), seq.Add(1))}
}

// Add creates the namespace prefix+name with its loopback up and returns
// its full name. It is deleted in the test's cleanup (after the cleanups
// registered later, such as those of processes started in it).
func (n *Net) Add(name string) string {
	n.t.Helper()
	ns := n.prefix + name
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		n.t.Fatalf("ip netns add %s: %v: %s (network namespaces must be available: root with CAP_SYS_ADMIN, a kernel with CONFIG_NET_NS)", ns, err, out)
	}
	n.t.Cleanup(func() {
		// Deleting the namespace takes its veths, routes and nftables
		// rules with it.
		if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
			n.t.Errorf("ip netns del %s: %v: %s", ns, err, out)
		}
	})
	n.Run(ns, "ip", "link", "set", "lo", "up")
	return ns
}

// Run runs a command inside namespace ns and fails the test if it fails.
func (n *Net) Run(ns string, args ...string) string {
	n.t.Helper()
	out, err := n.Command(ns, args...).CombinedOutput()
	if err != nil {
		n.t.Fatalf("in %s: %s: %v: %s", ns, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Command is args run inside namespace ns (ip netns exec execs it, so the
// command's PID is the process's own).
func (n *Net) Command(ns string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...)
}

// Start runs args inside namespace ns as a test peer: its output is kept,
// it is interrupted after timeout, and stopped by its PID when the test
// ends, before its namespace is deleted.
func (n *Net) Start(timeout time.Duration, ns string, args ...string) *testpeer.Proc {
	n.t.Helper()
	return testpeer.Start(n.t, timeout, "ip", append([]string{"netns", "exec", ns}, args...)...)
}

// Veth links namespace a's interface ifA to namespace b's ifB; each side
// gets its address (CIDR, "" for none) and is brought up. The names need
// only be unique inside their namespaces: the pair is created there.
func (n *Net) Veth(a, ifA, addrA, b, ifB, addrB string) {
	n.t.Helper()
	n.Run(a, "ip", "link", "add", ifA, "type", "veth", "peer", "name", ifB, "netns", b)
	for _, side := range []struct{ ns, dev, addr string }{{a, ifA, addrA}, {b, ifB, addrB}} {
		if side.addr != "" {
			n.Run(side.ns, "ip", "addr", "add", side.addr, "dev", side.dev)
		}
		n.Run(side.ns, "ip", "link", "set", side.dev, "up")
	}
}

// Sysctl sets a per-namespace sysctl (e.g. net.ipv4.ip_forward) by writing
// its /proc/sys file from inside ns.
func (n *Net) Sysctl(ns, key, value string) {
	n.t.Helper()
	path := "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
	n.Run(ns, "sh", "-c", fmt.Sprintf("echo %s > %s", value, path))
}

// Nft loads an nftables ruleset (nft -f) into namespace ns.
func (n *Net) Nft(ns, ruleset string) {
	n.t.Helper()
	cmd := n.Command(ns, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(ruleset)
	if out, err := cmd.CombinedOutput(); err != nil {
		n.t.Fatalf("in %s: nft -f: %v: %s\n%s", ns, err, out, ruleset)
	}
}
