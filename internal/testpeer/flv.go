package testpeer

import (
	"encoding/binary"
	"errors"
	"os"
)

// Tag is one FLV tag.
type Tag struct {
	Type      uint8 // 8 audio, 9 video, 18 script data
	Timestamp uint32
	Data      []byte
}

var errNotFLV = errors.New("testpeer: not an FLV file")

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
	if len(b) < 9 || string(b[:3]) != "FLV" {
		return nil, errNotFLV
	}
	off := int(binary.BigEndian.Uint32(b[5:9])) + 4
	var tags []Tag
	for off+11 <= len(b) {
		size := int(b[off+1])<<16 | int(b[off+2])<<8 | int(b[off+3])
		if off+11+size > len(b) {
			break
		}
		ts := uint32(b[off+4])<<16 | uint32(b[off+5])<<8 | uint32(b[off+6]) | uint32(b[off+7])<<24
		tags = append(tags, Tag{Type: b[off] & 0x1f, Timestamp: ts, Data: b[off+11 : off+11+size]})
		off += 11 + size + 4
	}
	return tags, nil
}

// AudioPayloads returns the non-empty audio tag bodies of tags.
func AudioPayloads(tags []Tag) [][]byte {
	var out [][]byte
	for _, t := range tags {
		if t.Type == 8 && len(t.Data) > 0 {
			out = append(out, t.Data)
		}
	}
	return out
}
