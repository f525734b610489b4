package flv

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"time"
)

// Meta is what an onMetaData script tag says about an audio-only file.
type Meta struct {
	AudioCodec uint8 // FLV SoundFormat (11: Speex)
	SampleRate int   // Hz
}

// WriteMetaData writes an onMetaData script tag whose duration (0 for
// now) Checkpoint rewrites in place: an AMF0 number has a fixed size, so
// the file never has to move. Call it before the first media tag.
func (w *Writer) WriteMetaData(m Meta) error {
	b := []byte{amf0String, 0, 10}
	b = append(b, "onMetaData"...)
	b = append(b, amf0ECMAArray, 0, 0, 0, 5)
	num := func(key string, v float64) {
		b = binary.BigEndian.AppendUint16(b, uint16(len(key)))
		b = append(b, key...)
		b = append(b, amf0Number)
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(v))
	}
	num("duration", 0)
	durAt := len(b) - 8
	num("audiocodecid", float64(m.AudioCodec))
	num("audiosamplerate", float64(m.SampleRate))
	num("audiosamplesize", 16)
	b = append(b, 0, 6)
	b = append(b, "stereo"...)
	b = append(b, amf0Boolean, 0)
	b = append(b, 0, 0, amf0ObjectEnd)
	at := w.off + tagHeaderLen + int64(durAt)
	if err := w.WriteTag(Tag{Type: TagScript, Data: b}); err != nil {
		return err
	}
	w.durOff = at
	return nil
}

// AMF0 markers of the onMetaData tag.
const (
	amf0Number    = 0x00
	amf0Boolean   = 0x01
	amf0String    = 0x02
	amf0ECMAArray = 0x08
	amf0ObjectEnd = 0x09
)

// Checkpoint writes what is buffered, then, only if all of it reached the
// file, d (the media time written so far) as onMetaData's duration: a
// writer killed later leaves a file whose duration is right up to here,
// and a failed write never leaves a duration the file does not hold. The
// underlying writer must be an io.WriterAt or io.WriteSeeker for the
// duration; it is not fsynced. Without WriteMetaData it is Flush.
func (w *Writer) Checkpoint(d time.Duration) error {
	if err := w.w.Flush(); err != nil {
		return err
	}
	if w.durOff == 0 {
		return nil
	}
	v := binary.BigEndian.AppendUint64(nil, math.Float64bits(d.Seconds()))
	switch f := w.dst.(type) {
	case io.WriterAt:
		_, err := f.WriteAt(v, w.durOff)
		return err
	case io.WriteSeeker:
		if _, err := f.Seek(w.durOff, io.SeekStart); err != nil {
			return err
		}
		if _, err := f.Write(v); err != nil {
			return err
		}
		_, err := f.Seek(w.off, io.SeekStart)
		return err
	}
	return fmt.Errorf("%w: the duration cannot be rewritten in a %T", ErrFormat, w.dst)
}
