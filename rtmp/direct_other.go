//go:build !linux

package rtmp

import (
	"errors"
	"net"
)

// init reports false: the direct sendto path is Linux's (direct_linux.go);
// elsewhere every write goes through the writer goroutine and net.Conn.
func (w *fdWriter) init(net.Conn) bool { return false }

// tryWrite is never called when init reported false.
func (w *fdWriter) tryWrite([]byte) (int, error) { return 0, errors.ErrUnsupported }
