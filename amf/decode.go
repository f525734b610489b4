package amf

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// inProgress fills a reference-table slot while the value that owns it is
// still being decoded and has no final Go value yet (arrays, vectors). A
// reference to it is refused: references must point to complete values.
type inProgress struct{}

// decoder holds the state of one Decode0 or Decode3 call.
type decoder struct {
	b     []byte
	off   int
	lim   Limits
	depth int
	elems int
	amf   int // 0 or 3, for error messages

	refs0 []any // AMF0 object reference table (AMF0 spec §2.9)
	ctx3  *ctx3 // AMF3 reference tables, fresh for each top-level AMF3 value
}

// ctx3 holds the three AMF3 reference tables (AMF3 spec §2.2).
type ctx3 struct {
	strs   []string
	objs   []any
	traits []*traits3
}

// traits3 describes an AMF3 object's class (AMF3 spec §3.12).
type traits3 struct {
	class   string
	sealed  []string
	dynamic bool
	ext     bool
}

func newDecoder(b []byte, l Limits) *decoder {
	return &decoder{b: b, lim: l.withDefaults()}
}

func (d *decoder) errf(off int, err error, format string, args ...any) error {
	return &DecodeError{Format: d.amf, Offset: off, Msg: fmt.Sprintf(format, args...), Err: err}
}

func (d *decoder) remaining() int { return len(d.b) - d.off }

// need checks that n more bytes are available; what names the field read.
func (d *decoder) need(n int, what string) error {
	if n < 0 || n > d.remaining() {
		return d.errf(d.off, ErrShortBuffer, "%s needs %d bytes, %d left", what, n, d.remaining())
	}
	return nil
}

func (d *decoder) u8(what string) (byte, error) {
	if err := d.need(1, what); err != nil {
		return 0, err
	}
	v := d.b[d.off]
	d.off++
	return v, nil
}

func (d *decoder) u16(what string) (uint16, error) {
	if err := d.need(2, what); err != nil {
		return 0, err
	}
	v := binary.BigEndian.Uint16(d.b[d.off:])
	d.off += 2
	return v, nil
}

func (d *decoder) u32(what string) (uint32, error) {
	if err := d.need(4, what); err != nil {
		return 0, err
	}
	v := binary.BigEndian.Uint32(d.b[d.off:])
	d.off += 4
	return v, nil
}

func (d *decoder) f64(what string) (float64, error) {
	if err := d.need(8, what); err != nil {
		return 0, err
	}
	v := math.Float64frombits(binary.BigEndian.Uint64(d.b[d.off:]))
	d.off += 8
	return v, nil
}

// bytes returns the next n input bytes (not copied) after checking n
// against the string limit and the remaining input.
func (d *decoder) bytes(n uint64, what string) ([]byte, error) {
	if n > uint64(d.lim.MaxStringLen) {
		return nil, d.errf(d.off, ErrTooLong, "%s of %d bytes exceeds limit %d", what, n, d.lim.MaxStringLen)
	}
	if n > uint64(d.remaining()) {
		return nil, d.errf(d.off, ErrShortBuffer, "%s of %d bytes, %d left", what, n, d.remaining())
	}
	s := d.b[d.off : d.off+int(n)]
	d.off += int(n)
	return s, nil
}

// checkCount refuses a declared element count before anything is
// allocated for it: every element needs at least minSize input bytes.
func (d *decoder) checkCount(start int, n uint64, minSize int, what string) error {
	if n > uint64(d.remaining()/minSize) {
		return d.errf(start, ErrTooLong, "%s of %d elements exceeds the %d bytes left", what, n, d.remaining())
	}
	if n > uint64(d.lim.MaxElements-d.elems) {
		return d.errf(start, ErrTooManyElements, "%s of %d elements exceeds limit %d", what, n, d.lim.MaxElements)
	}
	return nil
}

// count accounts for one decoded value.
func (d *decoder) count(start int) error {
	d.elems++
	if d.elems > d.lim.MaxElements {
		return d.errf(start, ErrTooManyElements, "more than %d values", d.lim.MaxElements)
	}
	return nil
}

// enter and leave bound the nesting of containers.
func (d *decoder) enter(start int) error {
	d.depth++
	if d.depth > d.lim.MaxDepth {
		return d.errf(start, ErrTooDeep, "nesting deeper than %d", d.lim.MaxDepth)
	}
	return nil
}

func (d *decoder) leave() { d.depth-- }

// Date range of ActionScript/ECMAScript Date: ±8.64e15 ms around the epoch
// (ECMA-262 §21.4.1.1).
const maxDateMillis = 8.64e15

func (d *decoder) date(start int, ms float64) (time.Time, error) {
	if math.IsNaN(ms) || math.IsInf(ms, 0) || math.Abs(ms) > maxDateMillis {
		return time.Time{}, d.errf(start, ErrInvalidDate, "date of %v ms", ms)
	}
	return time.UnixMilli(int64(ms)).UTC(), nil
}

// push appends v, doubling capacity when full. append's gentler growth
// for large slices allocates several times the final size in total; this
// keeps a decode's total allocation within a small multiple of its input.
func push[T any](s []T, v T) []T {
	if len(s) == cap(s) {
		n := make([]T, len(s), 2*cap(s)+4)
		copy(n, s)
		s = n
	}
	return append(s, v)
}
