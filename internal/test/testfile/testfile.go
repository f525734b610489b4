// Package testfile holds in-memory files for the tests of writers that
// seek back to patch headers (WAV, FLV): a growing file, and a full disk.
package testfile

import (
	"errors"
	"io"
	"syscall"
)

// Mem is an in-memory file: Write at the offset (growing it), Seek from
// the start only. B is its content.
type Mem struct {
	B   []byte
	off int
}

func (m *Mem) Write(p []byte) (int, error) {
	if need := m.off + len(p); need > len(m.B) {
		m.B = append(m.B, make([]byte, need-len(m.B))...)
	}
	copy(m.B[m.off:], p)
	m.off += len(p)
	return len(p), nil
}

// Seek moves the offset (io.SeekStart only).
func (m *Mem) Seek(off int64, whence int) (int64, error) {
	if whence != io.SeekStart {
		return 0, errors.New("testfile: only SeekStart")
	}
	m.off = int(off)
	return off, nil
}

// FullDisk is a file on a disk that holds at most Limit bytes: a write
// past it takes what fits and fails with ENOSPC; rewriting bytes the file
// already has always works (as on a real file system).
type FullDisk struct {
	Mem
	Limit int
}

func (f *FullDisk) Write(p []byte) (int, error) {
	if room := f.Limit - f.off; len(p) > room {
		n, _ := f.Mem.Write(p[:max(room, 0)])
		return n, syscall.ENOSPC
	}
	return f.Mem.Write(p)
}
