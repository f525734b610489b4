package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"github.com/flashvox/flashvox/bench/internal/proc"
)

// server is one RTMFP server under test, running as a child process.
type server struct {
	*proc.Child
	rtmfpURI   string // rtmfp://127.0.0.1:UDP/live
	rtmpURL    string // rtmp://127.0.0.1:TCP/live
	metricsURL string // Prometheus metrics, "" for tcserver
}

// startServer starts bin with args and env, bounded by ctx, and waits
// until its RTMP port accepts connections. It is stopped with SIGINT.
func startServer(ctx context.Context, name string, udp, rtmpPort int, env []string, bin string, args ...string) (*server, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	logf, err := os.CreateTemp("", "bench-rtmfp-"+name+"-*.log")
	if err != nil {
		return nil, err
	}
	logf.Close() // StartLogged opens it again for the child
	c, err := proc.StartLogged(cmd, name, fmt.Sprintf("127.0.0.1:%d", rtmpPort), syscall.SIGINT, logf.Name())
	if err != nil {
		return nil, err
	}
	return &server{Child: c,
		rtmfpURI: fmt.Sprintf("rtmfp://127.0.0.1:%d/live", udp), rtmpURL: fmt.Sprintf("rtmp://127.0.0.1:%d/live", rtmpPort)}, nil
}
