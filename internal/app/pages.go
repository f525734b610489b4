package app

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
)

// swfPath is where `make flash` puts the softphone: bin/flashvox.swf, beside
// the flashvox binary that `make build` writes to bin/.
func swfPath() string {
	exe, err := os.Executable()
	if err != nil {
		return filepath.Join("bin", "flashvox.swf")
	}
	return filepath.Join(filepath.Dir(exe), "flashvox.swf")
}

// listenPort is the port of a listen address like ":1935" or
// "0.0.0.0:1936", for the page to point the SWF at; 0 (RTMP's default)
// when the address names none.
func listenPort(addr string) int {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0
	}
	n, err := strconv.Atoi(p)
	if err != nil || n <= 0 || n > 65535 {
		return 0
	}
	return n
}
