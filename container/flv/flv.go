package flv

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
)

// FLV tag types.
const (
	TagAudio  = 8
	TagVideo  = 9
	TagScript = 18
)

const (
	flvHeaderLen = 9
	tagHeaderLen = 11
	flvFlagAudio = 0x04
	flvFlagVideo = 0x01
)

// Tag is one FLV tag: its type, timestamp in ms and body (for audio, the
// first byte is the SoundFormat byte).
type Tag struct {
	Type      uint8
	Timestamp uint32
	Data      []byte
}

// Reader reads the tags of an FLV file one at a time.
type Reader struct {
	r   *bufio.Reader
	off int64 // offset of the next tag header
	buf []byte
	hdr [tagHeaderLen + 4]byte
}

// NewReader reads the FLV file header from r.
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReader(r)
	var h [flvHeaderLen]byte
	if _, err := io.ReadFull(br, h[:]); err != nil || string(h[:3]) != "FLV" {
		return nil, ErrNotFLV
	}
	skip := int64(binary.BigEndian.Uint32(h[5:9]))
	if skip < flvHeaderLen || skip > 1<<20 {
		return nil, fmt.Errorf("%w: header size %d", ErrNotFLV, skip)
	}
	// The rest of the header, then PreviousTagSize0.
	if _, err := br.Discard(int(skip-flvHeaderLen) + 4); err != nil {
		return nil, fmt.Errorf("%w: truncated header", ErrDamaged)
	}
	return &Reader{r: br, off: skip + 4}, nil
}

// Next returns the next tag, io.EOF at the clean end of the file, or an
// error wrapping ErrDamaged. Tag.Data is valid until the next call.
func (r *Reader) Next() (Tag, error) {
	h := r.hdr[:tagHeaderLen]
	n, err := io.ReadFull(r.r, h)
	if err == io.EOF {
		return Tag{}, io.EOF
	}
	if err != nil {
		return Tag{}, fmt.Errorf("%w: tag header cut at offset %d (%d of %d bytes)", ErrDamaged, r.off, n, tagHeaderLen)
	}
	if h[0]&0xC0 != 0 {
		return Tag{}, fmt.Errorf("%w: reserved bits in tag type %#x at offset %d", ErrDamaged, h[0], r.off)
	}
	t := Tag{
		Type:      h[0] & 0x1f,
		Timestamp: uint32(h[4])<<16 | uint32(h[5])<<8 | uint32(h[6]) | uint32(h[7])<<24,
	}
	if h[0]&0x20 != 0 {
		return Tag{}, fmt.Errorf("%w: encrypted tag at offset %d", ErrFormat, r.off)
	}
	if t.Type != TagAudio && t.Type != TagVideo && t.Type != TagScript {
		return Tag{}, fmt.Errorf("%w: tag type %d at offset %d", ErrDamaged, t.Type, r.off)
	}
	size := int(h[1])<<16 | int(h[2])<<8 | int(h[3])
	// Read in steps of 64 KiB: a damaged size field must not allocate
	// 16 MB before the file proves it has the bytes.
	r.buf = r.buf[:0]
	for len(r.buf) < size {
		n := min(size-len(r.buf), 64<<10)
		start := len(r.buf)
		r.buf = slices.Grow(r.buf, n)[:start+n]
		if _, err := io.ReadFull(r.r, r.buf[start:]); err != nil {
			return Tag{}, fmt.Errorf("%w: tag of %d bytes at offset %d runs past the end of the file", ErrDamaged, size, r.off)
		}
	}
	// PreviousTagSize: a file cut right after the last tag's body is whole.
	if _, err := io.ReadFull(r.r, r.hdr[tagHeaderLen:]); err != nil && err != io.EOF {
		return Tag{}, fmt.Errorf("%w: cut after the tag at offset %d", ErrDamaged, r.off)
	}
	r.off += int64(tagHeaderLen + size + 4)
	t.Data = r.buf
	return t, nil
}

// Parse returns every tag of an FLV file held in b.
func Parse(b []byte) ([]Tag, error) {
	r, err := NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	var tags []Tag
	for {
		t, err := r.Next()
		if err == io.EOF {
			return tags, nil
		}
		if err != nil {
			return tags, err
		}
		t.Data = append([]byte(nil), t.Data...)
		tags = append(tags, t)
	}
}

// Writer writes an FLV file tag by tag.
type Writer struct {
	w      *bufio.Writer
	dst    io.Writer
	hdr    [tagHeaderLen]byte
	off    int64 // bytes handed to w: the file offset of the next tag
	durOff int64 // file offset of onMetaData's duration value; 0: none
}

// NewWriter writes the FLV file header announcing the given tracks.
func NewWriter(w io.Writer, tracks Tracks) (*Writer, error) {
	flags := byte(0)
	if tracks.Audio {
		flags |= flvFlagAudio
	}
	if tracks.Video {
		flags |= flvFlagVideo
	}
	bw := bufio.NewWriter(w)
	h := []byte{'F', 'L', 'V', 1, flags, 0, 0, 0, flvHeaderLen, 0, 0, 0, 0}
	if _, err := bw.Write(h); err != nil {
		return nil, err
	}
	return &Writer{w: bw, dst: w, off: int64(len(h))}, nil
}

// Tracks says which tracks an FLV file header announces.
type Tracks struct{ Audio, Video bool }

// WriteTag appends one tag and its PreviousTagSize.
func (w *Writer) WriteTag(t Tag) error {
	n := len(t.Data)
	if n >= 1<<24 {
		return fmt.Errorf("%w: tag of %d bytes", ErrFormat, n)
	}
	h := &w.hdr
	h[0] = t.Type
	h[1], h[2], h[3] = byte(n>>16), byte(n>>8), byte(n)
	h[4], h[5], h[6], h[7] = byte(t.Timestamp>>16), byte(t.Timestamp>>8), byte(t.Timestamp), byte(t.Timestamp>>24)
	h[8], h[9], h[10] = 0, 0, 0
	w.off += int64(tagHeaderLen + n + 4)
	if _, err := w.w.Write(h[:]); err != nil {
		return err
	}
	if _, err := w.w.Write(t.Data); err != nil {
		return err
	}
	_, err := w.w.Write(binary.BigEndian.AppendUint32(h[:0:4], uint32(tagHeaderLen+n)))
	return err
}

// Flush writes what is buffered.
func (w *Writer) Flush() error { return w.w.Flush() }
