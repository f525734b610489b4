//go:build !unix

package testpeer

import (
	"errors"
	"os"
	"os/exec"
)

// The real peers run on Linux (Debian packages); elsewhere the helpers
// compile but these report that they cannot work.

func noReuseAddr(uintptr) error { return errors.ErrUnsupported }

func lockFile(*os.File) error { return errors.ErrUnsupported }

func lookupUser(string) (int, int, error) { return 0, 0, errors.ErrUnsupported }

func runAs(*exec.Cmd, int, int) error { return errors.ErrUnsupported }
