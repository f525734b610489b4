package testpeer

import (
	"errors"
	"os"

	"github.com/flashvox/flashvox/container/flv"
)

// Tag is one FLV tag (container/flv's).
type Tag = flv.Tag

// ReadFLV returns the tags of the FLV file at path; a truncated last tag (a
// killed recorder) is dropped.
func ReadFLV(path string) ([]Tag, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseFLV(b)
}

// ParseFLV is ReadFLV on the bytes of a file.
func ParseFLV(b []byte) ([]Tag, error) {
	tags, err := flv.Parse(b)
	if errors.Is(err, flv.ErrDamaged) {
		err = nil // a peer killed mid-tag: what it wrote whole counts
	}
	return tags, err
}

// AudioPayloads returns the non-empty audio tag bodies of tags.
func AudioPayloads(tags []Tag) [][]byte {
	var out [][]byte
	for _, t := range tags {
		if t.Type == flv.TagAudio && len(t.Data) > 0 {
			out = append(out, t.Data)
		}
	}
	return out
}
