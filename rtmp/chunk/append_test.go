package chunk

import (
	"bytes"
	"io"
	"testing"

	"github.com/flashvox/flashvox/rtmp/message"
)

// TestAppendMessageMatchesWriteMessage: the direct path's stack encoding
// must produce the very bytes the writer path does, chunk headers included.
func TestAppendMessageMatchesWriteMessage(t *testing.T) {
	for _, c := range chunkCases {
		t.Run(c.name, func(t *testing.T) {
			want := encodeCase(t, c)
			w := NewWriter(io.Discard)
			var got []byte
			var err error
			if c.chunkSize != DefaultSize {
				if got, err = w.AppendMessage(got, message.SetChunkSizeMessage(c.chunkSize)); err != nil {
					t.Fatal(err)
				}
				if err := w.SetChunkSize(c.chunkSize); err != nil {
					t.Fatal(err)
				}
			}
			for i := range c.msgs {
				if got, err = w.AppendMessage(got, &c.msgs[i]); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("AppendMessage wrote %d bytes, WriteMessage %d; first difference at %d", len(got), len(want), firstDiff(got, want))
			}
		})
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
