package transcode

import (
	"bytes"
	"math"
	"testing"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/nellymoser"
	"github.com/flashvox/flashvox/codec/speex"
	"github.com/flashvox/flashvox/internal/test/audiotest"
)

// TestLateJoinStageByStage takes the Speex → Nellymoser path of a late
// transcoder apart on the tone of an ordinary call (lateJoinCases), to show
// where the loud, comb-filtered tone of a late transcoder came from:
//
//   - libspeex's decoder started from the stream's first frame has the
//     source's level; started at the join frame it does not (logged: it is
//     libspeex's own behaviour, and the reason for history.go);
//   - Nellymoser's encoder and decoder on the from-the-start PCM keep the
//     level and add nothing ≥ −30 dB;
//   - the chain's 320 → 256 sample buffering neither drops nor repeats a
//     sample: its blocks are those of encoding the same PCM directly, and
//     its timestamps advance 16 ms per block from the first input's.
func TestLateJoinStageByStage(t *testing.T) {
	c := lateJoinCases()[0]
	in := speexFrames(t, c.pcm)
	const join = 100
	src := c.pcm[join*320:]
	lvlSrc := audiotest.RMSDB(src[8000:])

	decodeFrom := func(k int) []int16 {
		d, err := speex.NewDecoder(16000)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		var pcm []int16
		for i, f := range in[k:] {
			if pcm, err = d.Decode(pcm, f.Payload); err != nil {
				t.Fatalf("frame %d: %v", k+i, err)
			}
		}
		return pcm
	}
	fromStart := decodeFrom(0)[join*320:]
	fromJoin := decodeFrom(join)
	lvlStart, lvlJoin := audiotest.RMSDB(fromStart[8000:]), audiotest.RMSDB(fromJoin[8000:])
	fj, relJoin := audiotest.Spurious(fromJoin[8000:], 16000, c.tone, 40)
	t.Logf("speex decode: source %.1f dBFS; from the first frame %.1f dBFS; from the join frame %.1f dBFS, strongest spurious %.0f Hz at %.1f dB",
		lvlSrc, lvlStart, lvlJoin, fj, relJoin)
	if math.Abs(lvlStart-lvlSrc) > 1 {
		t.Errorf("speex decoded from the first frame at %.1f dBFS, source %.1f", lvlStart, lvlSrc)
	}

	// Nellymoser alone, on the PCM a from-the-start decoder gives.
	enc, dec := nellymoser.NewEncoder(16000), nellymoser.NewDecoder(16000)
	var blocks [][]byte
	var nelly []int16
	for i := 0; i+256 <= len(fromStart); i += 256 {
		b, err := enc.Encode(nil, fromStart[i:i+256])
		if err != nil {
			t.Fatal(err)
		}
		blocks = append(blocks, b)
		nelly, _ = dec.Decode(nelly, b)
	}
	lvlNelly := audiotest.RMSDB(nelly[8000:])
	fn, relNelly := audiotest.Spurious(nelly[8000:], 16000, c.tone, 40)
	t.Logf("nellymoser on it: %.1f dBFS, strongest spurious %.0f Hz at %.1f dB", lvlNelly, fn, relNelly)
	if math.Abs(lvlNelly-lvlStart) > 1 || relNelly > -30 {
		t.Errorf("nellymoser changed the level to %.1f dBFS or added a component at %.0f Hz, %.1f dB", lvlNelly, fn, relNelly)
	}

	// The chain, fed the join frames with the from-the-start PCM attached
	// as the hub's history decoder does.
	ch := newChain(codec.Nellymoser, 16000)
	defer ch.close()
	var got [][]byte
	var stamps []uint32
	ch.emit = func(ts uint32, pkt []byte) {
		got = append(got, bytes.Clone(pkt))
		stamps = append(stamps, ts)
	}
	for i, f := range in[join:] {
		if err := ch.push(f, fromStart[i*320:(i+1)*320]); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != len(blocks) {
		t.Fatalf("chain: %d blocks, encoding the PCM directly %d", len(got), len(blocks))
	}
	for i := range got {
		if !bytes.Equal(got[i], blocks[i]) {
			t.Fatalf("chain block %d differs from encoding the same PCM directly", i)
		}
		if want := in[join].Timestamp + uint32(i*16); stamps[i] != want {
			t.Fatalf("chain block %d stamped %d ms, want %d", i, stamps[i], want)
		}
	}
}
