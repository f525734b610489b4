package audiotest

import (
	"encoding/binary"
	"errors"
	"os"
)

var errNotFLV = errors.New("audiotest: not an FLV file")

// ReadFLVAudio returns the payloads of the audio tags (type 8) in the FLV
// file at path, each starting with the SoundFormat byte. A truncated last
// tag is dropped.
func ReadFLVAudio(path string) ([][]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseFLVAudio(b)
}

// ParseFLVAudio is ReadFLVAudio on the bytes of an FLV file.
func ParseFLVAudio(b []byte) ([][]byte, error) {
	if len(b) < 9 || string(b[:3]) != "FLV" {
		return nil, errNotFLV
	}
	off := int(binary.BigEndian.Uint32(b[5:9])) + 4
	var tags [][]byte
	for off+11 <= len(b) {
		typ := b[off] & 0x1f
		size := int(b[off+1])<<16 | int(b[off+2])<<8 | int(b[off+3])
		if off+11+size > len(b) {
			break
		}
		if typ == 8 && size > 0 {
			tags = append(tags, b[off+11:off+11+size])
		}
		off += 11 + size + 4
	}
	return tags, nil
}

// WriteFLVAudio writes an audio-only FLV file holding one tag per payload
// (each starting with its SoundFormat byte), tagMillis apart.
func WriteFLVAudio(path string, payloads [][]byte, tagMillis int) error {
	b := []byte{'F', 'L', 'V', 1, 0x04, 0, 0, 0, 9, 0, 0, 0, 0}
	for i, p := range payloads {
		ts := i * tagMillis
		n := len(p)
		b = append(b, 8, byte(n>>16), byte(n>>8), byte(n),
			byte(ts>>16), byte(ts>>8), byte(ts), byte(ts>>24), 0, 0, 0)
		b = append(b, p...)
		b = binary.BigEndian.AppendUint32(b, uint32(11+n))
	}
	return os.WriteFile(path, b, 0o644)
}
