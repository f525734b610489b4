package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/flashvox/flashvox/bench/internal/proc"
)

// server is flashvox under test, a child process on free 127.0.0.1 ports
// with a throw-away configuration (same shape as bench/relay's).
type server struct {
	*proc.Child
	addr string // RTMP host:port
}

// userName is the throw-away account of participant i (password = name,
// accepted because every listener is on loopback).
func userName(i int) string { return fmt.Sprintf("bench%04d", i) }

// writeConfig writes the server's configuration: users for every
// participant, rooms forced mixed, limits raised for the load, log level warn.
func writeConfig(path string, users, rooms, roomSize int) error {
	var b bytes.Buffer
	b.WriteString("log:\n  level: warn\nrtmfp:\n  enabled: false\nusers:\n")
	for i := range users {
		fmt.Fprintf(&b, "  - {name: %s, password: %s}\n", userName(i), userName(i))
	}
	fmt.Fprintf(&b, "conference:\n  mode: mixed\n  max_rooms: %d\n  max_members: %d\n", max(rooms, 1), max(roomSize, 2))
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// startServer starts bin with the config in dir; ctx bounds its life.
func startServer(ctx context.Context, bin, dir string, users, rooms, roomSize int) (*server, error) {
	cfg := filepath.Join(dir, "flashvox.yaml")
	if err := writeConfig(cfg, users, rooms, roomSize); err != nil {
		return nil, err
	}
	rtmpPort, err := proc.FreePort()
	if err != nil {
		return nil, err
	}
	httpPort, err := proc.FreePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, "run", "--config", cfg)
	cmd.Env = append(os.Environ(),
		"FLASHVOX_RTMP_LISTEN=127.0.0.1:"+strconv.Itoa(rtmpPort),
		"FLASHVOX_HTTP_LISTEN=127.0.0.1:"+strconv.Itoa(httpPort),
		"FLASHVOX_RTMP_MAX_CONNECTIONS=100000",
		"FLASHVOX_RTMP_MAX_CONNECTIONS_PER_IP=100000",
		// every member plays its mix with ?codec= (mostly passed through)
		"FLASHVOX_RTMP_MAX_TRANSCODERS=100000",
		"FLASHVOX_SIP_LISTEN=127.0.0.1:0",
	)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(rtmpPort))
	c, err := proc.StartLogged(cmd, "flashvox", addr, syscall.SIGTERM, filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	return &server{Child: c, addr: addr}, nil
}

// warnings counts the log lines holding substr (the mixer's "fell behind").
func (s *server) warnings(substr string) int {
	b, err := os.ReadFile(s.Log)
	if err != nil {
		return -1
	}
	return strings.Count(string(b), substr)
}
