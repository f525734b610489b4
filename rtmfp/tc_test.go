package rtmfp

import (
	"testing"

	"github.com/flashvox/flashvox/rtmfp/wire"
)

func TestTCMetadata(t *testing.T) {
	for _, id := range []uint32{0, 1, 127, 128, 1<<32 - 1} {
		got, ok := parseTCMetadata(tcMetadata(id))
		if !ok || got != id {
			t.Errorf("stream %d: %d %v", id, got, ok)
		}
	}
	for _, bad := range [][]byte{nil, []byte("TC"), []byte("TC\x00\x01"), []byte("XC\x04\x01"), append([]byte("TC\x04"), wire.AppendVLU(nil, 1<<33)...)} {
		if _, ok := parseTCMetadata(bad); ok {
			t.Errorf("parseTCMetadata(%x) accepted", bad)
		}
	}
}

func FuzzTCMetadata(f *testing.F) {
	f.Add(tcMetadata(0))
	f.Add(tcMetadata(1 << 20))
	f.Fuzz(func(t *testing.T, b []byte) {
		id, ok := parseTCMetadata(b)
		if !ok {
			return
		}
		if got, ok := parseTCMetadata(tcMetadata(id)); !ok || got != id {
			t.Fatalf("round trip %d", id)
		}
	})
}
