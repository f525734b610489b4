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
		var pkts [][]byte
		for i := 0; i+n <= len(pcm); i += n {
			p, err := enc.Encode(nil, pcm[i:i+n])
			if err != nil {
				t.Fatal(err)
			}
			pkts = append(pkts, p)
		}
		enc.Close()
		var sumFEC, sumPLC float64
		better, tries := 0, 0
		for lost := 5; lost+1 < len(pkts); lost++ {
			var ds [3]*Decoder // decodes everything, recovers, conceals
			for i := range ds {
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
		}
		mf, mp := sumFEC/float64(tries), sumPLC/float64(tries)
		t.Logf("loss %d %%: a lost frame recovered at %.1f dB SNR on average, concealed at %.1f dB; recovery better in %d of %d", loss, mf, mp, better, tries)
		if loss > 0 && (mf < mp+3 || better < tries/2) {
			t.Errorf("with FEC, recovery (%.1f dB, better in %d of %d) is not clearly better than concealment (%.1f dB)", mf, better, tries, mp)
		}
	}
}
