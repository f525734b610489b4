package audiotest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
)

var errNotWAV = errors.New("audiotest: not a 16-bit PCM WAV")

// WriteWAV writes mono 16-bit PCM at rate to path.
func WriteWAV(path string, pcm []int16, rate int) error {
	b := make([]byte, 44, 44+2*len(pcm))
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+2*len(pcm)))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1)
	binary.LittleEndian.PutUint16(b[22:], 1)
	binary.LittleEndian.PutUint32(b[24:], uint32(rate))
	binary.LittleEndian.PutUint32(b[28:], uint32(2*rate))
	binary.LittleEndian.PutUint16(b[32:], 2)
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(2*len(pcm)))
	b = append(b, S16LE(pcm)...)
	return os.WriteFile(path, b, 0o644)
}

// ReadWAV reads a mono 16-bit PCM WAV file (the first channel of a
// multi-channel one) and returns its samples and rate.
func ReadWAV(path string) ([]int16, int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, 0, errNotWAV
	}
	var rate, channels int
	for off := 12; off+8 <= len(b); {
		id := string(b[off : off+4])
		size := int(binary.LittleEndian.Uint32(b[off+4:]))
		body := b[off+8:]
		if size > len(body) {
			size = len(body)
		}
		body = body[:size]
		switch id {
		case "fmt ":
			if size < 16 || binary.LittleEndian.Uint16(body[14:]) != 16 {
				return nil, 0, errNotWAV
			}
			channels = int(binary.LittleEndian.Uint16(body[2:]))
			rate = int(binary.LittleEndian.Uint32(body[4:]))
		case "data":
			if channels == 0 {
				return nil, 0, fmt.Errorf("%w: data before fmt", errNotWAV)
			}
			all := FromS16LE(body)
			out := make([]int16, 0, len(all)/channels)
			for i := 0; i+channels <= len(all); i += channels {
				out = append(out, all[i])
			}
			return out, rate, nil
		}
		off += 8 + size + size&1
	}
	return nil, 0, fmt.Errorf("%w: no data chunk", errNotWAV)
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
