package audiotest

import (
	"encoding/binary"
	"errors"
	"os"

	"github.com/flashvox/flashvox/container/wav"
)

// WriteWAV writes mono 16-bit PCM at rate to path (container/wav).
func WriteWAV(path string, pcm []int16, rate int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w, err := wav.NewWriter(f, rate)
	if err == nil {
		err = w.Write(pcm)
	}
	if err == nil {
		err = w.Close()
	}
	return errors.Join(err, f.Close())
}

// ReadWAV reads a 16-bit PCM WAV file (container/wav: several channels are
// mixed down to mono) and returns its samples and rate.
func ReadWAV(path string) ([]int16, int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	return wav.Parse(b)
}

// S16LE returns pcm as little-endian bytes (ffmpeg's s16le).
func S16LE(pcm []int16) []byte {
	b := make([]byte, 2*len(pcm))
	for i, v := range pcm {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

// FromS16LE returns the samples in little-endian bytes b (an odd last byte is ignored).
func FromS16LE(b []byte) []int16 {
	out := make([]int16, len(b)/2)
	for i := range out {
		out[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return out
}
