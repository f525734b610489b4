package nellymoser

import (
	"errors"
	"testing"
)

// fuzzSeeds are packets from the encode/decode tests: blocks our encoder
// makes from the test signals, multi-block packets and bad lengths.
func fuzzSeeds(t testing.TB) [][]byte {
	var seeds [][]byte
	for _, sig := range testSignals {
		in := sig.gen(16000, 4*FrameSamples)
		blocks := encodeAll(t, NewEncoder(16000), in)
		seeds = append(seeds, blocks[1])
		var pkt []byte
		for _, b := range blocks {
			pkt = append(pkt, b...)
		}
		seeds = append(seeds, pkt)
	}
	seeds = append(seeds, nil, make([]byte, 63), make([]byte, 65), make([]byte, BlockSize))
	ff := make([]byte, BlockSize)
	for i := range ff {
		ff[i] = 0xff
	}
	return append(seeds, ff)
}

func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	d := NewDecoder(16000)
	e := NewEncoder(16000)
	f.Fuzz(func(t *testing.T, pkt []byte) {
		out, err := d.Decode(nil, pkt)
		if len(pkt)%BlockSize != 0 {
			if !errors.Is(err, ErrPacketSize) || len(out) != 0 {
				t.Fatalf("len %d: err %v, %d samples", len(pkt), err, len(out))
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != len(pkt)/BlockSize*FrameSamples {
			t.Fatalf("%d blocks gave %d samples", len(pkt)/BlockSize, len(out))
		}
		// Whatever we decode must encode again into one valid block each.
		for i := 0; i+FrameSamples <= len(out); i += FrameSamples {
			b, err := e.Encode(nil, out[i:i+FrameSamples])
			if err != nil || len(b) != BlockSize {
				t.Fatalf("re-encode: %d bytes, err %v", len(b), err)
			}
		}
		d.Conceal(nil)
	})
}
