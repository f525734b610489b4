package app

import (
	"os"
	"path/filepath"
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
