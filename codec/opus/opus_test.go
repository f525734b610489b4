//go:build cgo

package opus

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testpeer"
)

// roundTrip encodes pcm in frames and decodes every packet, dropping the
// packets whose index lost says.
func roundTrip(t *testing.T, rate int, o EncoderOptions, pcm []int16, lost func(int) bool) (out []int16, bytes int) {
	t.Helper()
	enc, err := NewEncoder(rate, o)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	dec, err := NewDecoder(rate)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	n := enc.FrameSamples()
	var pkt []byte
	for i := 0; i+n <= len(pcm); i += n {
		if pkt, err = enc.Encode(pkt[:0], pcm[i:i+n]); err != nil {
			t.Fatal(err)
		}
		bytes += len(pkt)
		if lost != nil && lost(i/n) {
			out = dec.Conceal(out)
			continue
		}
		if out, err = dec.Decode(out, pkt); err != nil {
			t.Fatal(err)
		}
	}
	return out, bytes
}

func TestRoundTrip(t *testing.T) {
	for _, rate := range []int{8000, 16000, 48000} {
		pcm := audiotest.Voice(rate, rate*2, 180, 8000)
		out, n := roundTrip(t, rate, EncoderOptions{Bitrate: 32000}, pcm, nil)
		if len(out) != len(pcm) {
			t.Fatalf("%d Hz: decoded %d samples of %d", rate, len(out), len(pcm))
		}
		snr, lag := audiotest.AlignedSNR(pcm, out, rate/50)
		t.Logf("%d Hz: SNR %.1f dB (lag %d samples), %d bytes for 2 s", rate, snr, lag, n)
		// Opus is perceptual: the waveform is kept loosely (8–15 dB here);
		// a broken decoder is at 0 dB or below.
		if snr < 5 {
			t.Errorf("%d Hz: SNR %.1f dB (lag %d) after a round trip", rate, snr, lag)
		}
		if kbps := float64(n*8) / 2 / 1000; kbps < 20 || kbps > 40 {
			t.Errorf("%d Hz: %.1f kbit/s at a 32 kbit/s setting", rate, kbps)
		}
	}
}

// TestConceal: lost packets become concealment of the same length, not gaps.
func TestConceal(t *testing.T) {
	const rate = 16000
	pcm := audiotest.Sine(rate, rate, 440, 8000)
	out, _ := roundTrip(t, rate, EncoderOptions{LossPercent: 10}, pcm, func(i int) bool { return i%5 == 2 })
	if len(out) != len(pcm) {
		t.Fatalf("decoded %d samples of %d with losses", len(out), len(pcm))
	}
	if db := audiotest.ToneDB(out, rate, 440); db < -20 {
		t.Errorf("440 Hz at %.1f dB after concealment", db)
	}
}

func TestBadInput(t *testing.T) {
	if _, err := NewDecoder(44100); !errors.Is(err, codec.ErrUnsupportedRate) {
		t.Errorf("44.1 kHz decoder: %v", err)
	}
	enc, err := NewEncoder(16000, EncoderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := enc.Encode(nil, make([]int16, 100)); !errors.Is(err, codec.ErrFrameSize) {
		t.Errorf("short frame: %v", err)
	}
	if _, err := NewEncoder(16000, EncoderOptions{Bitrate: 1}); err == nil {
		t.Error("a 1 bit/s encoder was made")
	}
	enc.Close()
	if _, err := enc.Encode(nil, make([]int16, 320)); !errors.Is(err, ErrClosed) {
		t.Errorf("encode after Close: %v", err)
	}
	dec, err := NewDecoder(16000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dec.Decode(nil, make([]byte, MaxPacketSize+1)); !errors.Is(err, codec.ErrCorrupt) {
		t.Errorf("oversized packet: %v", err)
	}
	// TOC code 3 (arbitrary frame count) with a count of 0 frames is invalid.
	if out, err := dec.Decode(nil, []byte{0x03, 0x00}); !errors.Is(err, codec.ErrCorrupt) || len(out) != 0 {
		t.Errorf("invalid packet: %d samples, %v", len(out), err)
	}
	dec.Close()
	if _, err := dec.Decode(nil, []byte{0xf8}); !errors.Is(err, ErrClosed) {
		t.Errorf("decode after Close: %v", err)
	}
	if got := dec.Conceal(nil); len(got) != 320 {
		t.Errorf("conceal after Close: %d samples, want 320 of silence", len(got))
	}
}

// TestPeerFFmpegOpus: packets made by ffmpeg's libopus encoder (an Ogg
// Opus file) decode here to what ffmpeg decodes them to.
func TestPeerFFmpegOpus(t *testing.T) {
	testpeer.SkipShort(t, "ffmpeg")
	dir := t.TempDir()
	src := filepath.Join(dir, "voice.wav")
	if err := audiotest.WriteWAV(src, audiotest.Voice(48000, 48000*2, 150, 9000), 48000); err != nil {
		t.Fatal(err)
	}
	ogg := filepath.Join(dir, "voice.opus")
	audiotest.RunFFmpeg(t, "-i", src, "-c:a", "libopus", "-b:a", "24k", "-application", "voip", ogg)
	ref := audiotest.FromS16LE(audiotest.RunFFmpeg(t, "-c:a", "libopus", "-i", ogg, "-f", "s16le", "-ac", "1", "-ar", "48000", "-"))
	pkts, err := audiotest.ReadOggPackets(ogg)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkts) < 50 {
		t.Fatalf("%d packets in ffmpeg's file", len(pkts))
	}
	dec, err := NewDecoder(48000)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	var out []int16
	for _, p := range pkts[2:] { // OpusHead and OpusTags first
		if out, err = dec.Decode(out, p); err != nil {
			t.Fatal(err)
		}
	}
	snr, lag := audiotest.AlignedSNR(ref, out, 960)
	t.Logf("%d packets; SNR %.1f dB (lag %d) against ffmpeg's decoding", len(pkts)-2, snr, lag)
	if snr < 30 {
		t.Errorf("SNR %.1f dB (lag %d) against ffmpeg's own decoding", snr, lag)
	}
}

func FuzzDecode(f *testing.F) {
	enc, err := NewEncoder(16000, EncoderOptions{})
	if err != nil {
		f.Fatal(err)
	}
	pkt, err := enc.Encode(nil, audiotest.Sine(16000, 320, 440, 8000))
	if err != nil {
		f.Fatal(err)
	}
	enc.Close()
	f.Add(pkt)
	f.Add([]byte{0x03, 0x00})
	f.Add([]byte{0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, pkt []byte) {
		dec, err := NewDecoder(16000)
		if err != nil {
			t.Fatal(err)
		}
		defer dec.Close()
		out, err := dec.Decode(nil, pkt)
		if err == nil && len(out) > 16000*maxPacketMs/1000 {
			t.Fatalf("%d samples from one packet", len(out))
		}
		if err != nil && len(out) != 0 {
			t.Fatalf("%d samples with an error", len(out))
		}
		_ = dec.Conceal(out)
	})
}
