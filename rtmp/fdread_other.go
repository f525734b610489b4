//go:build !linux

package rtmp

import (
	"io"
	"net"
)

// fdReader is Linux's raw read path (fdread_linux.go); elsewhere the
// connection reads through net.Conn.
type fdReader struct{}

// newFDReader returns nil: no raw read path on this system.
func newFDReader(net.Conn) *fdReader { return nil }

// Read is never called: newFDReader returns nil.
func (*fdReader) Read([]byte) (int, error) { return 0, io.EOF }
