package audiotest

import (
	"errors"
	"os"
)

var errNotOgg = errors.New("audiotest: not an Ogg stream")

// ReadOggPackets returns the packets of the first logical stream of the Ogg
// file at path (for Speex: header, comment, then audio packets).
func ReadOggPackets(path string) ([][]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseOggPackets(b)
}

// ParseOggPackets is ReadOggPackets on the bytes of an Ogg file.
func ParseOggPackets(b []byte) ([][]byte, error) {
	var (
		pkts   [][]byte
		cur    []byte
		serial []byte
	)
	for off := 0; off < len(b); {
		if off+27 > len(b) || string(b[off:off+4]) != "OggS" {
			return pkts, errNotOgg
		}
		nseg := int(b[off+26])
		if off+27+nseg > len(b) {
			return pkts, errNotOgg
		}
		lacing := b[off+27 : off+27+nseg]
		data := off + 27 + nseg
		mine := serial == nil || string(b[off+14:off+18]) == string(serial)
		if serial == nil {
			serial = b[off+14 : off+18]
		}
		for _, l := range lacing {
			if data+int(l) > len(b) {
				return pkts, errNotOgg
			}
			if mine {
				cur = append(cur, b[data:data+int(l)]...)
				if l < 255 {
					pkts = append(pkts, cur)
					cur = nil
				}
			}
			data += int(l)
		}
		off = data
	}
	return pkts, nil
}
