package audiotest

import (
	"bytes"
	"errors"
	"os"

	"github.com/flashvox/flashvox/container/flv"
)

// ReadFLVAudio returns the payloads of the audio tags in the FLV file at
// path, each starting with the SoundFormat byte. A truncated last tag is
// dropped.
func ReadFLVAudio(path string) ([][]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseFLVAudio(b)
}

// ParseFLVAudio is ReadFLVAudio on the bytes of an FLV file.
func ParseFLVAudio(b []byte) ([][]byte, error) {
	tags, err := flv.Parse(b)
	if err != nil && !errors.Is(err, flv.ErrDamaged) {
		return nil, err
	}
	var out [][]byte
	for _, t := range tags {
		if t.Type == flv.TagAudio && len(t.Data) > 0 {
			out = append(out, t.Data)
		}
	}
	return out, nil
}

// WriteFLVAudio writes an audio-only FLV file holding one tag per payload
// (each starting with its SoundFormat byte), tagMillis apart.
func WriteFLVAudio(path string, payloads [][]byte, tagMillis int) error {
	var b bytes.Buffer
	w, err := flv.NewWriter(&b, flv.Tracks{Audio: true})
	if err != nil {
		return err
	}
	for i, p := range payloads {
		if err := w.WriteTag(flv.Tag{Type: flv.TagAudio, Timestamp: uint32(i * tagMillis), Data: p}); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}
