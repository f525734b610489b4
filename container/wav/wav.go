package wav

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

const (
	wavFormatPCM        = 1
	wavFormatExtensible = 0xFFFE
	wavHeaderLen        = 44
	maxWAVChannels      = 8
)

// Parse returns the PCM of a 16-bit WAV file held in b, mixed down to
// mono, and its sample rate. A data chunk longer than the file (a
// recorder that never patched its header) is read to the end of the file.
func Parse(b []byte) (pcm []int16, rate int, err error) {
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, 0, ErrNotWAV
	}
	channels := 0
	for off := 12; off+8 <= len(b); {
		id, size := string(b[off:off+4]), int(binary.LittleEndian.Uint32(b[off+4:off+8]))
		body := b[off+8:]
		if size < 0 || size > len(body) {
			if id != "data" {
				return nil, 0, fmt.Errorf("%w: chunk %q of %d bytes at offset %d runs past the end", ErrDamaged, id, size, off)
			}
			size = len(body)
		}
		body = body[:size]
		switch id {
		case "fmt ":
			if size < 16 {
				return nil, 0, fmt.Errorf("%w: fmt chunk of %d bytes", ErrNotWAV, size)
			}
			format := binary.LittleEndian.Uint16(body[0:2])
			channels = int(binary.LittleEndian.Uint16(body[2:4]))
			rate = int(binary.LittleEndian.Uint32(body[4:8]))
			bits := binary.LittleEndian.Uint16(body[14:16])
			if (format != wavFormatPCM && format != wavFormatExtensible) || bits != 16 {
				return nil, 0, fmt.Errorf("%w: format %d with %d bits per sample", ErrNotWAV, format, bits)
			}
			if channels < 1 || channels > maxWAVChannels || rate <= 0 {
				return nil, 0, fmt.Errorf("%w: %d channels at %d Hz", ErrNotWAV, channels, rate)
			}
		case "data":
			if channels == 0 {
				return nil, 0, fmt.Errorf("%w: data before fmt", ErrNotWAV)
			}
			frames := size / (2 * channels)
			pcm = make([]int16, frames)
			for i := range pcm {
				sum := 0
				for c := range channels {
					sum += int(int16(binary.LittleEndian.Uint16(body[2*(i*channels+c):])))
				}
				pcm[i] = int16(sum / channels)
			}
			return pcm, rate, nil
		}
		off += 8 + size + size&1 // chunks are padded to even sizes
	}
	return nil, 0, fmt.Errorf("%w: no data chunk", ErrNotWAV)
}

// Writer streams mono 16-bit PCM into a WAV file. The header's sizes
// are those of the bytes the file really took (a short write on a full
// disk counts only what was written), set by Checkpoint and Close.
type Writer struct {
	w       io.WriteSeeker
	rate    int
	written int64 // data bytes the file took
	buf     []byte
}

// NewWriter writes a header for mono 16-bit PCM at rate, with sizes 0.
func NewWriter(w io.WriteSeeker, rate int) (*Writer, error) {
	ww := &Writer{w: w, rate: rate}
	if _, err := w.Write(ww.header()); err != nil {
		return nil, err
	}
	return ww, nil
}

func (w *Writer) header() []byte {
	h := make([]byte, 0, wavHeaderLen)
	h = append(h, "RIFF"...)
	h = binary.LittleEndian.AppendUint32(h, 36+w.dataSize())
	h = append(h, "WAVEfmt "...)
	h = binary.LittleEndian.AppendUint32(h, 16)
	h = binary.LittleEndian.AppendUint16(h, wavFormatPCM)
	h = binary.LittleEndian.AppendUint16(h, 1)
	h = binary.LittleEndian.AppendUint32(h, uint32(w.rate))
	h = binary.LittleEndian.AppendUint32(h, uint32(w.rate*2))
	h = binary.LittleEndian.AppendUint16(h, 2)
	h = binary.LittleEndian.AppendUint16(h, 16)
	h = append(h, "data"...)
	return binary.LittleEndian.AppendUint32(h, w.dataSize())
}

// dataSize is the data chunk's size: whole samples written, capped where
// the RIFF size would overflow.
func (w *Writer) dataSize() uint32 {
	return uint32(min(w.written&^1, 1<<32-1-36-1))
}

// Write appends samples (buffered: Flush, Checkpoint or Close writes them).
func (w *Writer) Write(pcm []int16) error {
	for _, s := range pcm {
		w.buf = binary.LittleEndian.AppendUint16(w.buf, uint16(s))
	}
	if len(w.buf) < 32<<10 {
		return nil
	}
	return w.Flush()
}

// Flush writes what is buffered; after an error the buffer is dropped
// (what the file took is counted, not the rest).
func (w *Writer) Flush() error {
	n, err := w.w.Write(w.buf)
	w.written += int64(n)
	w.buf = w.buf[:0]
	return err
}

// Checkpoint writes what is buffered, then the sizes of what the file
// holds into the header, so that a writer killed later leaves a file
// every reader takes as whole up to here. It does not fsync: a killed
// process loses nothing the kernel has. The header is rewritten in place,
// so it works on a full disk too.
func (w *Writer) Checkpoint() error {
	ferr := w.Flush()
	if err := w.writeSizes(); err != nil {
		return errors.Join(ferr, err)
	}
	return ferr
}

// writeSizes patches the RIFF and data sizes and returns to the end of
// the data.
func (w *Writer) writeSizes() error {
	h := w.header()
	for _, off := range []int64{4, 40} {
		if _, err := w.w.Seek(off, io.SeekStart); err != nil {
			return err
		}
		if _, err := w.w.Write(h[off : off+4]); err != nil {
			return err
		}
	}
	_, err := w.w.Seek(wavHeaderLen+w.written, io.SeekStart)
	return err
}

// Close is Checkpoint: the file is complete (it does not close the
// underlying file).
func (w *Writer) Close() error { return w.Checkpoint() }
