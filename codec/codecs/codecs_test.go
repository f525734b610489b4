package codecs

import (
	"errors"
	"io"
	"testing"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/audiotest"
)

// Every implemented codec round-trips a sweep at every rate it supports.
func TestEveryCodecRoundTrips(t *testing.T) {
	for id := range table {
		for _, rate := range Rates(id) {
			enc, err := NewEncoder(id, rate)
			if err != nil {
				t.Fatalf("%s %d: %v", id, rate, err)
			}
			dec, err := NewDecoder(id, rate)
			if err != nil {
				t.Fatalf("%s %d: %v", id, rate, err)
			}
			if enc.SampleRate() != rate || dec.SampleRate() != rate {
				t.Errorf("%s %d: rates %d/%d", id, rate, enc.SampleRate(), dec.SampleRate())
			}
			fs := enc.FrameSamples()
			src := audiotest.Sweep(rate, 20*fs, 200, 0.4*float64(rate), 0.5)
			var out []int16
			for f := src; len(f) >= fs; f = f[fs:] {
				pkt, err := enc.Encode(nil, f[:fs])
				if err != nil {
					t.Fatal(err)
				}
				if out, err = dec.Decode(out, pkt); err != nil {
					t.Fatalf("%s %d: %v", id, rate, err)
				}
			}
			out = dec.Conceal(out)
			if len(out) < len(src) {
				t.Errorf("%s %d: %d samples from %d", id, rate, len(out), len(src))
			}
			if rms := audiotest.RMSDB(out); rms < -20 {
				t.Errorf("%s %d: output level %.1f dB", id, rate, rms)
			}
			for _, c := range []any{enc, dec} {
				if cl, ok := c.(io.Closer); ok {
					cl.Close()
				}
			}
		}
	}
}

func TestErrors(t *testing.T) {
	if _, err := NewDecoder(codec.MP3, 0); !errors.Is(err, codec.ErrNotImplemented) {
		t.Errorf("mp3: %v", err)
	}
	if _, err := NewDecoder(codec.PCMU, 16000); !errors.Is(err, codec.ErrUnsupportedRate) {
		t.Errorf("pcmu at 16k: %v", err)
	}
	if _, err := NewEncoder(0, 0); !errors.Is(err, codec.ErrUnknownFormat) {
		t.Errorf("id 0: %v", err)
	}
	if d, err := NewDecoder(codec.G722, 0); err != nil || d.SampleRate() != 16000 {
		t.Errorf("g722 default rate: %v", err)
	}
}
