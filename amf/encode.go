package amf

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"time"
)

// encoder holds the state of one Encode0 or Encode3 call.
type encoder struct {
	buf    []byte
	amf    int // 0 or 3, for errors
	depth  int
	maxOut int // 0 = unlimited; bounds output growth from shared references

	refs0  map[any]int // AMF0 object table: identity key -> index
	list0  []refEntry  // the same, while small (refs0 nil)
	small0 [8]refEntry
	n0     int // AMF0 complex values written so far
	ctx3   *encCtx3
}

type refEntry struct {
	key any
	idx int
}

// encCtx3 holds the AMF3 reference tables on the encode side.
type encCtx3 struct {
	strs   map[string]int
	objs   map[any]int
	nobjs  int
	traits map[string]int
}

func newEncCtx3() *encCtx3 {
	return &encCtx3{strs: map[string]int{}, objs: map[any]int{}, traits: map[string]int{}}
}

// Identity keys for values that references may share. Decoded references
// yield the same pointer or slice, so the encoder sends them as references
// again: output stays proportional to the graph, and cycles terminate.
type sliceKey[T any] struct {
	p *T
	n int
}

// Value keys for AMF3 values without identity that still live in the
// object table.
type (
	dateKey   struct{ ms int64 }
	xmlKey    struct{ s string }
	xmlDocKey struct{ s string }
)

func identity(v any) (any, bool) {
	switch v := v.(type) {
	case *Object, *ECMAArray, *MixedArray, *Dictionary, *ArrayCollection, *ObjectProxy:
		return v, true
	case []any:
		return keyOf(v)
	case []byte:
		return keyOf(v)
	case []int32:
		return keyOf(v)
	case []uint32:
		return keyOf(v)
	case []float64:
		return keyOf(v)
	}
	return nil, false
}

func keyOf[T any](s []T) (any, bool) {
	if len(s) == 0 {
		return nil, false
	}
	return sliceKey[T]{&s[0], len(s)}, true
}

// encodeLimits: the encoder refuses graphs deeper than the decoder accepts
// by default, which also stops cyclic maps and slices.
const encodeMaxDepth = DefaultMaxDepth

func (e *encoder) errf(err error, format string, args ...any) error {
	return &EncodeError{Format: e.amf, Msg: fmt.Sprintf(format, args...), Err: err}
}

// at prefixes the path of an EncodeError with one step.
func at(err error, step string) error {
	if ee, ok := err.(*EncodeError); ok {
		ee.Path = step + ee.Path
	}
	return err
}

func (e *encoder) enter() error {
	e.depth++
	if e.depth > encodeMaxDepth {
		return e.errf(ErrTooDeep, "nesting deeper than %d (cyclic value?)", encodeMaxDepth)
	}
	return nil
}

func (e *encoder) leave() { e.depth-- }

func (e *encoder) grow() error {
	if e.maxOut > 0 && len(e.buf) > e.maxOut {
		return e.errf(ErrValueTooLarge, "output exceeds %d bytes", e.maxOut)
	}
	return nil
}

func (e *encoder) u8(v byte)    { e.buf = append(e.buf, v) }
func (e *encoder) u16(v uint16) { e.buf = binary.BigEndian.AppendUint16(e.buf, v) }
func (e *encoder) u32(v uint32) { e.buf = binary.BigEndian.AppendUint32(e.buf, v) }
func (e *encoder) f64(v float64) {
	e.buf = binary.BigEndian.AppendUint64(e.buf, math.Float64bits(v))
}

// number converts Go numeric types; ok is false for non-numbers.
func number(v any) (f float64, i int64, isInt, ok bool) {
	switch v := v.(type) {
	case float64:
		return v, 0, false, true
	case float32:
		return float64(v), 0, false, true
	case int:
		return float64(v), int64(v), true, true
	case int8:
		return float64(v), int64(v), true, true
	case int16:
		return float64(v), int64(v), true, true
	case int32:
		return float64(v), int64(v), true, true
	case int64:
		return float64(v), v, true, true
	case uint:
		return float64(v), int64(v), v <= math.MaxInt64, true
	case uint8:
		return float64(v), int64(v), true, true
	case uint16:
		return float64(v), int64(v), true, true
	case uint32:
		return float64(v), int64(v), true, true
	case uint64:
		return float64(v), int64(v), v <= math.MaxInt64, true
	}
	return 0, 0, false, false
}

func dateMillis(t time.Time) float64 { return float64(t.UnixMilli()) }

// sortedProps turns a map into properties ordered by key, so that output
// is deterministic.
func sortedProps(m map[string]any) []Prop {
	props := make([]Prop, 0, len(m))
	for k, v := range m {
		props = append(props, Prop{Key: k, Value: v})
	}
	sort.Slice(props, func(i, j int) bool { return props[i].Key < props[j].Key })
	return props
}

func stringsToAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
