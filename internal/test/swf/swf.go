// Package swf reads what the tests need from a SWF file: the header (the
// declared Flash Player version, compression) and the strings of the
// DoABC tags' constant pools, where ActionScript 3 keeps method, field and
// literal names. It is a reader for our own build output, strict about
// every length, and never panics on input.
package swf

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Errors of Parse.
var (
	ErrSignature = errors.New("swf: not a SWF file (signature must be FWS, CWS or ZWS)")
	ErrLZMA      = errors.New("swf: LZMA-compressed (ZWS) files are not supported")
	ErrTooLarge  = errors.New("swf: declared length is over the limit")
	ErrShort     = errors.New("swf: truncated")
)

// MaxSize bounds the uncompressed length Parse accepts.
const MaxSize = 64 << 20

// Tag codes Parse looks into.
const (
	TagEnd    = 0
	TagDoABC1 = 72 // DoABC without flags and name
	TagDoABC  = 82
)

// File is a parsed SWF.
type File struct {
	Compressed bool   // CWS (zlib)
	Version    uint8  // SWF file version: 10 is Flash Player 10, 12 is 10.3, 13 is 11.0
	Length     uint32 // uncompressed length from the header
	FrameRate  float64
	Frames     uint16
	Tags       []Tag
}

// Tag is one tag of the file body.
type Tag struct {
	Code uint16
	Body []byte
}

// Parse reads a SWF file.
func Parse(b []byte) (*File, error) {
	if len(b) < 8 {
		return nil, ErrShort
	}
	f := &File{Version: b[3], Length: binary.LittleEndian.Uint32(b[4:8])}
	if f.Length > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrTooLarge, f.Length)
	}
	if f.Length < 8 {
		return nil, fmt.Errorf("%w: length %d", ErrShort, f.Length)
	}
	var body []byte
	switch string(b[:3]) {
	case "FWS":
		if uint32(len(b)) < f.Length {
			return nil, ErrShort
		}
		body = b[8:f.Length]
	case "CWS":
		f.Compressed = true
		zr, err := zlib.NewReader(bytes.NewReader(b[8:]))
		if err != nil {
			return nil, fmt.Errorf("swf: zlib: %w", err)
		}
		body = make([]byte, f.Length-8)
		if _, err := io.ReadFull(zr, body); err != nil {
			return nil, fmt.Errorf("%w: zlib body: %w", ErrShort, err)
		}
	case "ZWS":
		return nil, ErrLZMA
	default:
		return nil, ErrSignature
	}
	// RECT: 5 bits of field size, then four fields of that many bits.
	if len(body) < 1 {
		return nil, ErrShort
	}
	nbits := int(body[0] >> 3)
	rectBytes := (5 + 4*nbits + 7) / 8
	if len(body) < rectBytes+4 {
		return nil, ErrShort
	}
	p := body[rectBytes:]
	f.FrameRate = float64(p[1]) + float64(p[0])/256
	f.Frames = binary.LittleEndian.Uint16(p[2:4])
	p = p[4:]
	for len(p) > 0 {
		if len(p) < 2 {
			return nil, ErrShort
		}
		h := binary.LittleEndian.Uint16(p)
		code, n := h>>6, uint32(h&0x3f)
		p = p[2:]
		if n == 0x3f {
			if len(p) < 4 {
				return nil, ErrShort
			}
			n = binary.LittleEndian.Uint32(p)
			p = p[4:]
		}
		if uint32(len(p)) < n {
			return nil, fmt.Errorf("%w: tag %d wants %d bytes, %d left", ErrShort, code, n, len(p))
		}
		f.Tags = append(f.Tags, Tag{Code: code, Body: p[:n]})
		p = p[n:]
		if code == TagEnd {
			break
		}
	}
	return f, nil
}

// ABCStrings returns the strings of every DoABC tag's constant pool.
func (f *File) ABCStrings() ([]string, error) {
	var out []string
	for _, t := range f.Tags {
		var abc []byte
		switch t.Code {
		case TagDoABC1:
			abc = t.Body
		case TagDoABC:
			// u32 flags, a NUL-terminated name, then the ABC.
			if len(t.Body) < 4 {
				return nil, ErrShort
			}
			i := bytes.IndexByte(t.Body[4:], 0)
			if i < 0 {
				return nil, ErrShort
			}
			abc = t.Body[4+i+1:]
		default:
			continue
		}
		s, err := ConstantStrings(abc)
		if err != nil {
			return nil, err
		}
		out = append(out, s...)
	}
	return out, nil
}
