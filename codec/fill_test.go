package codec_test

import (
	"testing"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/codecs"
)

// TestFillGap: whole packets missing are filled, as many as are missing;
// a gap that is not a whole number of packets (timestamps that jitter)
// is left alone.
func TestFillGap(t *testing.T) {
	dec, err := codecs.NewDecoder(codec.PCMU, 8000)
	if err != nil {
		t.Fatal(err)
	}
	next := make([]byte, 160)
	if _, err := dec.Decode(nil, next); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		gap, frame int64 // µs
		want       int   // samples filled
	}{
		{"one packet", 20000, 20000, 160},
		{"three packets", 60000, 20000, 480},
		{"one, stamped a millisecond off", 21000, 20000, 160},
		{"jitter: half a packet", 10000, 20000, 0},
		{"jitter: most of a packet", 16000, 20000, 0},
		{"jitter: a packet and some", 27000, 20000, 0},
		{"none", 0, 20000, 0},
		{"no packet before", 20000, 0, 0},
	} {
		got := 0
		codec.FillGap(dec, nil, tc.gap, tc.frame, next, func(pcm []int16, recovered bool) {
			if recovered {
				t.Errorf("%s: PCMU has no FEC", tc.name)
			}
			got += len(pcm)
		})
		if got != tc.want {
			t.Errorf("%s: %d samples filled, want %d", tc.name, got, tc.want)
		}
	}
}
