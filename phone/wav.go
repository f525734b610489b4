package phone

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	"github.com/flashvox/flashvox/codec/resample"
)

var errNotWAV = errors.New("phone: not a 16-bit PCM WAV file")

// maxWAVBytes bounds the microphone file read into memory (about 30 min at 16 kHz).
const maxWAVBytes = 64 << 20

// ReadWAV reads a 16-bit PCM WAV file (the first channel of a multi-channel
// one) and returns it at SampleRate.
func ReadWAV(path string) ([]int16, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Size() > maxWAVBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", errNotWAV, maxWAVBytes)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pcm, rate, err := parseWAV(b)
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

func parseWAV(b []byte) ([]int16, int, error) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, 0, errNotWAV
	}
	var rate, channels int
	for off := 12; off+8 <= len(b); {
		id := string(b[off : off+4])
		size := int(binary.LittleEndian.Uint32(b[off+4:]))
		body := b[off+8:]
		size = min(size, len(body))
		body = body[:size]
		switch id {
		case "fmt ":
			if size < 16 || binary.LittleEndian.Uint16(body[0:]) != 1 || binary.LittleEndian.Uint16(body[14:]) != 16 {
				return nil, 0, errNotWAV
			}
			channels = int(binary.LittleEndian.Uint16(body[2:]))
			rate = int(binary.LittleEndian.Uint32(body[4:]))
			if channels < 1 {
				return nil, 0, errNotWAV
			}
		case "data":
			if channels == 0 {
				return nil, 0, fmt.Errorf("%w: data before fmt", errNotWAV)
			}
			out := make([]int16, 0, len(body)/2/channels)
			for i := 0; i+2*channels <= len(body); i += 2 * channels {
				out = append(out, int16(binary.LittleEndian.Uint16(body[i:])))
			}
			return out, rate, nil
		}
		off += 8 + size + size&1
	}
	return nil, 0, fmt.Errorf("%w: no data chunk", errNotWAV)
}

// WriteWAV writes pcm as a mono 16-bit WAV file at SampleRate.
func WriteWAV(path string, pcm []int16) error {
	b := make([]byte, 44, 44+2*len(pcm))
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+2*len(pcm)))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1)
	binary.LittleEndian.PutUint16(b[22:], 1)
	binary.LittleEndian.PutUint32(b[24:], SampleRate)
	binary.LittleEndian.PutUint32(b[28:], 2*SampleRate)
	binary.LittleEndian.PutUint16(b[32:], 2)
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(2*len(pcm)))
	for _, v := range pcm {
		b = binary.LittleEndian.AppendUint16(b, uint16(v))
	}
	return os.WriteFile(path, b, 0o644)
}
