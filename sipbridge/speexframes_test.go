package sipbridge

import (
	"bytes"
	"slices"
	"testing"

	"github.com/flashvox/flashvox/codec/speex"
	"github.com/flashvox/flashvox/internal/test/audiotest"
)

// speexPackets encodes count frames of a tone with libspeex at rate and
// quality.
func speexPackets(t testing.TB, rate, quality, count int) [][]byte {
	t.Helper()
	enc, err := speex.NewEncoder(rate, speex.EncoderOptions{Quality: quality})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	pcm := audiotest.Square(rate, rate, 440, 0.3)
	n := enc.FrameSamples()
	var out [][]byte
	for i := range count {
		p, err := enc.Encode(nil, pcm[i*n%len(pcm):][:n])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// joinSpeex packs frames bit by bit as an RFC 5574 sender does: each
// frame's length comes from the parser, so a wrong size table breaks the
// round trip below.
func joinSpeex(t testing.TB, frames [][]byte) []byte {
	t.Helper()
	var bits []byte
	for _, f := range frames {
		end, ok, err := speexFrameEnd(f, 0)
		if err != nil || !ok {
			t.Fatalf("frame %x: end %d ok %v err %v", f, end, ok, err)
		}
		r := speexBits{b: f}
		for range end {
			bits = append(bits, byte(r.read(1)))
		}
	}
	if len(bits)%8 != 0 { // terminator padding: 0 then 1s
		bits = append(bits, 0)
		for len(bits)%8 != 0 {
			bits = append(bits, 1)
		}
	}
	out := make([]byte, len(bits)/8)
	for i, b := range bits {
		out[i/8] |= b << (7 - i%8)
	}
	return out
}

// TestSplitSpeex: frames libspeex encoded at every quality, wideband and
// narrowband, packed 1 to 4 per packet, come out as the encoder made them
// and decode to the same PCM as the whole packet.
func TestSplitSpeex(t *testing.T) {
	for _, rate := range []int{16000, 8000} {
		for q := 1; q <= 10; q++ {
			frames := speexPackets(t, rate, q, 4)
			for n := 1; n <= 4; n++ {
				in := frames[:n]
				pkt := joinSpeex(t, in)
				got, err := splitSpeex(nil, pkt)
				if err != nil {
					t.Fatalf("rate %d quality %d, %d frames: %v", rate, q, n, err)
				}
				if !slices.EqualFunc(got, in, bytes.Equal) {
					t.Fatalf("rate %d quality %d, %d frames: split into %d frames %x, want %x", rate, q, n, len(got), got, in)
				}
				if n == 1 && &got[0][0] != &pkt[0] {
					t.Errorf("a one-frame packet must pass untouched, not copied")
				}
				checkSameDecode(t, rate, pkt, got)
			}
		}
	}
}

func checkSameDecode(t *testing.T, rate int, pkt []byte, frames [][]byte) {
	t.Helper()
	d1, err := speex.NewDecoder(rate)
	if err != nil {
		t.Fatal(err)
	}
	defer d1.Close()
	d2, _ := speex.NewDecoder(rate)
	defer d2.Close()
	whole, err := d1.Decode(nil, pkt)
	if err != nil {
		t.Fatalf("decode packet: %v", err)
	}
	var parts []int16
	for _, f := range frames {
		if parts, err = d2.Decode(parts, f); err != nil {
			t.Fatalf("decode frame: %v", err)
		}
	}
	if !slices.Equal(whole, parts) {
		t.Errorf("rate %d: frames decode to %d samples unlike the packet's %d", rate, len(parts), len(whole))
	}
}

func TestSplitSpeexMalformed(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"padding only", []byte{0x7f}},
		{"reserved mode", []byte{0x48, 0x00}}, // 0 1001: mode 9
		{"truncated frame", []byte{0x08, 0x00}},
		{"wideband first", []byte{0x80, 0x00, 0x00}},
	} {
		if got, err := splitSpeex(nil, tc.in); err == nil {
			t.Errorf("%s: split into %x, want an error", tc.name, got)
		}
	}
}

// FuzzSplitSpeex: any payload is split without panicking, into at most
// maxSpeexFrames frames that each parse as exactly one frame.
func FuzzSplitSpeex(f *testing.F) {
	for _, q := range []int{1, 5, 8, 10} {
		frames := speexPackets(f, 16000, q, 3)
		f.Add(frames[0])
		f.Add(joinSpeex(f, frames))
	}
	f.Add([]byte{0x7f})
	f.Add([]byte{0x70, 0xff}) // in-band signal then terminator
	f.Fuzz(func(t *testing.T, b []byte) {
		frames, err := splitSpeex(nil, b)
		if err != nil {
			return
		}
		if len(frames) == 0 || len(frames) > maxSpeexFrames {
			t.Fatalf("%d frames", len(frames))
		}
		if len(frames) == 1 {
			return
		}
		for _, fr := range frames {
			if again, err := splitSpeex(nil, fr); err != nil || len(again) != 1 {
				t.Fatalf("frame %x splits again into %d (%v)", fr, len(again), err)
			}
		}
	})
}
