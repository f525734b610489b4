//go:build cgo

package opus

import (
	"testing"

	"github.com/flashvox/flashvox/internal/test/audiotest"
)

// TestDecodeFEC: a packet lost on the way comes back from the next one's
// in-band FEC closer to what it held than concealment gets, and as long;
// packets without FEC data give concealment. Each packet of two seconds
// of voice is lost in turn (SILK codes the redundancy only for frames it
// finds active enough, so not every frame has it).
func TestDecodeFEC(t *testing.T) {
	const rate, n = 16000, 320
	pcm := audiotest.Voice(rate, 2*rate, 140, 0.3)
	for _, loss := range []int{20, 0} { // FEC on, off
		enc, err := NewEncoder(rate, EncoderOptions{LossPercent: loss})
		if err != nil {
			t.Fatal(err)
		}
		pkts, _ := encodeAll(t, enc, pcm)
		enc.Close()
		var sumFEC, sumPLC float64
		better, tries := 0, 0
		eachLost(t, rate, pkts, func(lost int, ref, fec, plc []int16) {
			if len(fec) != n {
				t.Fatalf("recovered %d samples, want %d", len(fec), n)
			}
			sf, sp := audiotest.SNR(ref, fec), audiotest.SNR(ref, plc)
			sumFEC, sumPLC, tries = sumFEC+sf, sumPLC+sp, tries+1
			if sf > sp+1 {
				better++
			}
			if loss == 0 && sf != sp {
				t.Fatalf("packet %d: without FEC data the recovery (%.1f dB) is not the concealment (%.1f dB)", lost, sf, sp)
			}
		})
		mf, mp := sumFEC/float64(tries), sumPLC/float64(tries)
		t.Logf("loss %d %%: a lost frame recovered at %.1f dB SNR on average, concealed at %.1f dB; recovery better in %d of %d", loss, mf, mp, better, tries)
		if loss > 0 && (mf < mp+3 || better < tries/2) {
			t.Errorf("with FEC, recovery (%.1f dB, better in %d of %d) is not clearly better than concealment (%.1f dB)", mf, better, tries, mp)
		}
	}
}

// encodeAll encodes pcm in 20 ms packets, and their bytes in all.
func encodeAll(t *testing.T, enc *Encoder, pcm []int16) (pkts [][]byte, bytes int) {
	t.Helper()
	n := enc.FrameSamples()
	for i := 0; i+n <= len(pcm); i += n {
		p, err := enc.Encode(nil, pcm[i:i+n])
		if err != nil {
			t.Fatal(err)
		}
		pkts, bytes = append(pkts, p), bytes+len(p)
	}
	return pkts, bytes
}

// eachLost loses each packet of pkts in turn, from the fifth, and gives
// fn what decoding it gave (ref), what its successor's FEC recovers (fec)
// and what concealment makes of it (plc), each decoder fresh.
func eachLost(t *testing.T, rate int, pkts [][]byte, fn func(lost int, ref, fec, plc []int16)) {
	t.Helper()
	for lost := 5; lost+1 < len(pkts); lost++ {
		var ds [3]*Decoder // decodes everything, recovers, conceals
		for i := range ds {
			var err error
			if ds[i], err = NewDecoder(rate); err != nil {
				t.Fatal(err)
			}
		}
		var ref, fec, plc []int16
		for i, p := range pkts[:lost+2] {
			switch i {
			case lost:
				ref, _ = ds[0].Decode(nil, p)
				continue
			case lost + 1:
				fec = ds[1].DecodeFEC(nil, p)
				plc = ds[2].Conceal(nil)
			}
			for _, d := range ds {
				if _, err := d.Decode(nil, p); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, d := range ds {
			d.Close()
		}
		fn(lost, ref, fec, plc)
	}
}

// fecShare is the share of packets (each lost in turn, from the fifth)
// whose successor's FEC decodes to something else than concealment.
func fecShare(t *testing.T, rate int, pkts [][]byte) float64 {
	t.Helper()
	n := 0
	eachLost(t, rate, pkts, func(_ int, _, fec, plc []int16) {
		if audiotest.SNR(fec, plc) < 60 {
			n++
		}
	})
	return float64(n) / float64(len(pkts)-6)
}

// TestSetLossPercent: an encoder (8 kHz: the hub's for a phone's G.711)
// told of loss codes in-band FEC, at a bitrate raised for it where
// libopus's own is too low (at 8 kHz its ≈ 11 kbit/s gets none); told of
// none again, it stops.
func TestSetLossPercent(t *testing.T) {
	for _, rate := range []int{8000, 12000, 16000, 24000, 48000} {
		pcm := audiotest.Voice(rate, 3*rate, 140, 0.3)
		enc, err := NewEncoder(rate, EncoderOptions{Complexity: 5})
		if err != nil {
			t.Fatal(err)
		}
		encode := func(from, to int) ([][]byte, int) { return encodeAll(t, enc, pcm[from:to]) }
		off, offBytes := encode(0, rate)
		if err := enc.SetLossPercent(10); err != nil {
			t.Fatal(err)
		}
		on, onBytes := encode(rate, 2*rate)
		if err := enc.SetLossPercent(0); err != nil {
			t.Fatal(err)
		}
		again, againBytes := encode(2*rate, 3*rate)
		enc.Close()
		so, sn, sa := fecShare(t, rate, off), fecShare(t, rate, on), fecShare(t, rate, again)
		t.Logf("%d Hz: FEC in %.0f %% of packets before, %.0f %% told of 10 %% loss, %.0f %% after; %d, %d, %d bytes a second",
			rate, 100*so, 100*sn, 100*sa, offBytes, onBytes, againBytes)
		if so != 0 || sa != 0 || sn < 0.5 {
			t.Errorf("%d Hz: FEC in %.2f, %.2f, %.2f of the packets; want none, most, none", rate, so, sn, sa)
		}
	}
}
