package chunk

import (
	"reflect"
	"testing"
)

// FuzzChunkReader: any input either fails cleanly or yields messages that
// survive a write/read round trip.
func FuzzChunkReader(f *testing.F) {
	for _, c := range chunkCases {
		f.Add(encodeCase(f, c))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		msgs, _ := readAll(in, 1<<16)
		if len(msgs) == 0 {
			return
		}
		c := chunkCase{chunkSize: 64, msgs: msgs}
		again, _ := readAll(encodeCase(t, c), 1<<16)
		if !reflect.DeepEqual(normalize(again), normalize(msgs)) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", again, msgs)
		}
	})
}
