package softphone

import (
	"errors"
	"fmt"
	"os"

	"github.com/flashvox/flashvox/codec/resample"
	"github.com/flashvox/flashvox/container/wav"
)

// maxWAVBytes bounds the microphone file read into memory (about 30 min at 16 kHz).
const maxWAVBytes = 64 << 20

// ReadWAV reads a 16-bit PCM WAV file (mixed down to mono, as convert reads
// it) and returns it at SampleRate.
func ReadWAV(path string) ([]int16, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Size() > maxWAVBytes {
		return nil, fmt.Errorf("%s: %w: larger than %d bytes", path, wav.ErrNotWAV, maxWAVBytes)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pcm, rate, err := wav.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if rate == SampleRate {
		return pcm, nil
	}
	rs, err := resample.New(rate, SampleRate)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rs.Flush(rs.Resample(nil, pcm)), nil
}

// WriteWAV writes pcm as a mono 16-bit WAV file at SampleRate.
func WriteWAV(path string, pcm []int16) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, f.Close()) }()
	w, err := wav.NewWriter(f, SampleRate)
	if err != nil {
		return err
	}
	if err := w.Write(pcm); err != nil {
		return err
	}
	return w.Close()
}
