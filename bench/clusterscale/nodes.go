package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/flashvox/flashvox/bench/internal/proc"
)

// node is one flashvox process, its RTMP address and, with -quota, its
// cgroup.
type node struct {
	c    *proc.Child
	rtmp string
	cg   *cpuGroup // nil without -quota
}

// startNodes starts the setup's nodes, each pinned to its core and, with
// -quota, in a cgroup of its own that limits it to the quota. A node that
// cannot be limited is stopped and the setup fails: a row measured
// without the quota asked for would mislead.
func startNodes(ctx context.Context, o options, dir, setup string) (nodes []node, err error) {
	count := 1
	if setup == "two" {
		count = 2
	} else if setup != "one" {
		return nil, fmt.Errorf("unknown setup %q", setup)
	}
	var routes []string
	for range count {
		a, err := proc.FreeAddr()
		if err != nil {
			return nil, err
		}
		routes = append(routes, a)
	}
	defer func() {
		if err != nil { // stop those started
			nodes, err = nil, errors.Join(err, stopAll(nodes))
		}
	}()
	cfg := filepath.Join(dir, setup+".yaml")
	if err := os.WriteFile(cfg, []byte("cluster:\n  routes: ["+strings.Join(routes, ", ")+"]\n"), 0o600); err != nil {
		return nil, err
	}
	for i := range count {
		nd, err := startNode(ctx, o, cfg, setup, i, routes)
		if err != nil {
			return nodes, err
		}
		nodes = append(nodes, nd)
	}
	if count > 1 { // the routes: give the embedded servers a moment to connect (bounded)
		time.Sleep(2 * time.Second)
	}
	return nodes, nil
}

// startNode starts node i of the setup, pinned to core i, with -quota in
// its cgroup; routes > 1 make it a cluster node.
func startNode(ctx context.Context, o options, cfg, setup string, i int, routes []string) (node, error) {
	addr, err := proc.FreeAddr()
	if err != nil {
		return node{}, err
	}
	name := string(rune('a' + i))
	cmd := exec.CommandContext(ctx, "taskset", "-c", strconv.Itoa(i), o.bin, "--config", cfg)
	cmd.Env = append(os.Environ(), "FLASHVOX_RTMP_LISTEN="+addr, "FLASHVOX_HTTP_LISTEN=127.0.0.1:0", "FLASHVOX_SIP_LISTEN=127.0.0.1:0",
		"FLASHVOX_RTMFP_LISTEN=127.0.0.1:0", "FLASHVOX_LOG_LEVEL=warn",
		"FLASHVOX_RTMP_MAX_CONNECTIONS=100000", "FLASHVOX_RTMP_MAX_CONNECTIONS_PER_IP=100000")
	if len(routes) > 1 {
		cmd.Env = append(cmd.Env, "FLASHVOX_CLUSTER_ENABLED=true", "FLASHVOX_CLUSTER_SECRET=clusterscale-secret-0123",
			"FLASHVOX_CLUSTER_NODE="+name, "FLASHVOX_CLUSTER_LISTEN="+routes[i])
	}
	c, err := proc.StartLogged(cmd, "flashvox "+name, addr, syscall.SIGTERM, filepath.Join(filepath.Dir(cfg), setup+"-"+name+".log"))
	if err != nil {
		return node{}, err
	}
	nd := node{c: c, rtmp: addr}
	if o.groups != nil {
		if nd.cg, err = o.groups.limit(setup+"-"+name, c.PID()); err != nil {
			c.Stop()
			return node{}, fmt.Errorf("flashvox %s: %w", name, err)
		}
	}
	return nd, nil
}

// stopAll stops the nodes, waits for their exit and removes their cgroups.
func stopAll(nodes []node) error {
	var errs []error
	for _, n := range nodes {
		n.c.Stop()
		errs = append(errs, n.cg.remove())
	}
	return errors.Join(errs...)
}

// nodesThrottled is the time the quota held the nodes back so far, summed.
func nodesThrottled(nodes []node) (time.Duration, error) {
	var sum time.Duration
	for _, n := range nodes {
		d, err := n.cg.throttled()
		if err != nil {
			return 0, err
		}
		sum += d
	}
	return sum, nil
}

func nodesSwitches(nodes []node) proc.Switches {
	var sum proc.Switches
	for _, n := range nodes {
		sum = sum.Add(proc.ReadSwitches(n.c.PID()))
	}
	return sum
}

// perfRecord records the nodes' CPU profile (`perf record -g`, call
// graphs, every node in one file) until ctx ends; wait waits for perf to
// write it.
func perfRecord(ctx context.Context, nodes []node, out string) (wait func() error, err error) {
	pids := make([]string, len(nodes))
	for i, n := range nodes {
		pids[i] = strconv.Itoa(n.c.PID())
	}
	cmd := exec.CommandContext(ctx, "perf", "record", "-g", "-F", "499", "-p", strings.Join(pids, ","), "-o", out)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return func() error {
		err := cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil // perf exits non-zero on SIGINT
		}
		return err
	}, nil
}

func nodesCPU(nodes []node) time.Duration {
	var sum time.Duration
	for _, n := range nodes {
		if c, err := n.c.CPU(); err == nil {
			sum += c
		}
	}
	return sum
}
