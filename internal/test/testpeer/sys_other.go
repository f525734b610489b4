//go:build !unix

package testpeer

import (
	"errors"
	"os"
)

// The real peers run on Linux (Debian packages); elsewhere the helpers
// compile but these report that they cannot work.

func noReuseAddr(uintptr) error { return errors.ErrUnsupported }

func lockFile(*os.File) error { return errors.ErrUnsupported }
