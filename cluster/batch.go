package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/flashvox/flashvox/media"
)

// A batch carries the frames of several streams to one node in one NATS
// message (subject subjBatchPre + the node): the per-message costs of
// NATS (the route's write and read, the server's parse, the client's
// delivery, a wake-up of the inbox) are paid once per batch instead of
// once per frame, which is most of what a relayed frame cost
// (BENCHMARKS.md, "The relay path's cost"). Its wire form:
//
//	0    batchVersion
//	1-   entries, each:
//	       uvarint  length of the stream's name
//	       name     its frames subject without subjFramesPre
//	                (node.key64, or node.key64.variant)
//	       uvarint  length of the frame
//	       frame    the frame's wire form (frame.go)
const (
	batchVersion = 1
	// maxBatchName bounds an entry's name: a node (64), a key of maxKey
	// bytes in base64url, a variant name, the dots.
	maxBatchName = 64 + 1 + (maxKey*4+2)/3 + 1 + 32
	// batchTarget is the size past which the sender starts another batch
	// (a single larger frame travels alone, up to NATS's 1 MiB).
	batchTarget = 32 << 10
)

// Errors of walkBatch.
var (
	errBatchVersion = errors.New("cluster: unknown batch version")
	errBatchEntry   = errors.New("cluster: malformed batch entry")
)

// appendBatchFrame appends one entry: name and f, encoded in place (f's
// payload within MaxFramePayload).
func appendBatchFrame(b []byte, name string, f *media.Frame) []byte {
	if len(b) == 0 {
		b = append(b, batchVersion)
	}
	b = binary.AppendUvarint(b, uint64(len(name)))
	b = append(b, name...)
	b = binary.AppendUvarint(b, uint64(FrameSize(f)))
	b, _ = AppendFrame(b, f)
	return b
}

// walkBatch calls fn with each entry's name and frame (both alias b), in
// order, and stops at the first malformed entry with an error (the
// entries before it were handed over). It never panics on any input.
func walkBatch(b []byte, fn func(name, frame []byte)) error {
	if len(b) == 0 {
		return errBatchEntry
	}
	if b[0] != batchVersion {
		return fmt.Errorf("%w: %d", errBatchVersion, b[0])
	}
	b = b[1:]
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || n == 0 || n > maxBatchName || n > uint64(len(b)-k) {
			return fmt.Errorf("%w: name length", errBatchEntry)
		}
		name := b[k : k+int(n)]
		b = b[k+int(n):]
		n, k = binary.Uvarint(b)
		if k <= 0 || n < frameHeaderSize || n > uint64(len(b)-k) {
			return fmt.Errorf("%w: frame length", errBatchEntry)
		}
		fn(name, b[k:k+int(n)])
		b = b[k+int(n):]
	}
	return nil
}

func (c *Cluster) publishBatch(node string, b []byte) {
	if c.nc.Publish(subjBatchPre+node, b) == nil {
		c.Stats.BatchesOut.Add(1)
	}
}
