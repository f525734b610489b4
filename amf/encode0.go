package amf

import (
	"fmt"
	"math"
	"time"
)

// Encode0 appends the AMF0 encoding of vals to dst. Values with no AMF0
// form ([]byte, XML, vectors, Dictionary, MixedArray, Flex classes,
// AVMPlus, objects with an empty member name) are written in AMF3 behind an
// avmplus-object marker. Repeated *Object, *ECMAArray and []any values are
// written as AMF0 references.
func Encode0(dst []byte, vals ...any) ([]byte, error) {
	var e encoder
	e.buf = dst
	return e.encode0All(vals)
}

func (e *encoder) encode0All(vals []any) ([]byte, error) {
	for i, v := range vals {
		if err := e.value0(v); err != nil {
			return e.buf, at(err, fmt.Sprintf("[%d]", i))
		}
	}
	return e.buf, nil
}

// value0 encodes one value: one case per Go type the AMF0 markers map to,
// kept in one switch (long on purpose) so the whole table reads at once.
func (e *encoder) value0(v any) error {
	e.amf = 0
	if err := e.grow(); err != nil {
		return err
	}
	if f, _, _, ok := number(v); ok {
		e.u8(marker0Number)
		e.f64(f)
		return nil
	}
	if key, ok := identity(v); ok {
		if idx, ok := e.lookup0(key); ok && idx <= math.MaxUint16 {
			e.u8(marker0Reference)
			e.u16(uint16(idx))
			return nil
		}
	}
	switch v := v.(type) {
	case nil:
		e.u8(marker0Null)
	case UndefinedType:
		e.u8(marker0Undefined)
	case UnsupportedType:
		e.u8(marker0Unsupported)
	case bool:
		e.u8(marker0Boolean)
		if v {
			e.u8(1)
		} else {
			e.u8(0)
		}
	case string:
		if len(v) <= math.MaxUint16 {
			e.u8(marker0String)
			e.u16(uint16(len(v)))
		} else {
			if uint64(len(v)) > math.MaxUint32 {
				return e.errf(ErrValueTooLarge, "string of %d bytes", len(v))
			}
			e.u8(marker0LongString)
			e.u32(uint32(len(v)))
		}
		e.buf = append(e.buf, v...)
	case XMLDocument:
		if uint64(len(v)) > math.MaxUint32 {
			return e.errf(ErrValueTooLarge, "xml document of %d bytes", len(v))
		}
		e.u8(marker0XMLDocument)
		e.u32(uint32(len(v)))
		e.buf = append(e.buf, v...)
	case time.Time:
		e.u8(marker0Date)
		e.f64(dateMillis(v))
		e.u16(0)
	case *Object:
		if v == nil {
			e.u8(marker0Null)
			return nil
		}
		if hasEmptyKey(v.Props) {
			return e.avmplus(v)
		}
		return e.object0(v, v.Class, v.Props)
	case Object:
		return e.value0(&v)
	case map[string]any:
		if v == nil {
			e.u8(marker0Null)
			return nil
		}
		return e.object0(nil, "", sortedProps(v))
	case *ECMAArray:
		if v == nil {
			e.u8(marker0Null)
			return nil
		}
		return e.ecmaArray0(v)
	case ECMAArray:
		return e.value0(&v)
	case []any:
		return e.strictArray0(v)
	case []string:
		return e.strictArray0(stringsToAny(v))
	case AVMPlus:
		return e.avmplus(v.Value)
	case []byte, XML, *MixedArray, MixedArray, *Dictionary, Dictionary, []int32, []uint32, []float64,
		ObjectVector, *ObjectVector, *ArrayCollection, ArrayCollection, *ObjectProxy, ObjectProxy:
		return e.avmplus(v)
	default:
		return e.errf(ErrUnsupportedValue, "type %T", v)
	}
	return nil
}

func hasEmptyKey(props []Prop) bool {
	for _, p := range props {
		if p.Key == "" {
			return true
		}
	}
	return false
}

// avmplus writes v in AMF3 with fresh reference tables (AMF0 spec §3.1).
func (e *encoder) avmplus(v any) error {
	e.u8(marker0AVMPlus)
	saved := e.ctx3
	e.ctx3 = newEncCtx3()
	err := e.value3(v)
	e.ctx3 = saved
	e.amf = 0
	return err
}

// register gives the next AMF0 object-table index to a complex value, as
// the decoder does when it meets one.
func (e *encoder) register0(key any) {
	if key != nil {
		e.remember0(key, e.n0)
	}
	e.n0++
}

// remember0 records key's index. A command holds a few objects, so a short
// list is searched before a map is made: encoding connect allocates less.
func (e *encoder) remember0(key any, idx int) {
	if e.refs0 == nil && len(e.list0) < len(e.small0) {
		e.small0[len(e.list0)] = refEntry{key, idx}
		e.list0 = e.small0[:len(e.list0)+1]
		return
	}
	if e.refs0 == nil {
		e.refs0 = make(map[any]int, 2*len(e.list0))
		for _, r := range e.list0 {
			e.refs0[r.key] = r.idx
		}
	}
	e.refs0[key] = idx
}

func (e *encoder) lookup0(key any) (int, bool) {
	if e.refs0 != nil {
		idx, ok := e.refs0[key]
		return idx, ok
	}
	for _, r := range e.list0 {
		if r.key == key {
			return r.idx, true
		}
	}
	return 0, false
}

func (e *encoder) object0(o *Object, class string, props []Prop) error {
	if class != "" {
		if len(class) > math.MaxUint16 {
			return e.errf(ErrValueTooLarge, "class name of %d bytes", len(class))
		}
		e.u8(marker0TypedObject)
		e.u16(uint16(len(class)))
		e.buf = append(e.buf, class...)
	} else {
		e.u8(marker0Object)
	}
	if o != nil {
		e.register0(o)
	} else {
		e.register0(nil)
	}
	return e.props0(props)
}

func (e *encoder) ecmaArray0(a *ECMAArray) error {
	e.u8(marker0ECMAArray)
	e.u32(uint32(len(a.Props)))
	e.register0(a)
	return e.props0(a.Props)
}

func (e *encoder) props0(props []Prop) error {
	if err := e.enter(); err != nil {
		return err
	}
	defer e.leave()
	for _, p := range props {
		if p.Key == "" {
			return e.errf(ErrUnsupportedValue, "empty member name")
		}
		if len(p.Key) > math.MaxUint16 {
			return e.errf(ErrValueTooLarge, "member name of %d bytes", len(p.Key))
		}
		e.u16(uint16(len(p.Key)))
		e.buf = append(e.buf, p.Key...)
		if err := e.value0(p.Value); err != nil {
			return at(err, "."+p.Key)
		}
	}
	e.u16(0)
	e.u8(marker0ObjectEnd)
	return nil
}

func (e *encoder) strictArray0(a []any) error {
	if uint64(len(a)) > math.MaxUint32 {
		return e.errf(ErrValueTooLarge, "array of %d elements", len(a))
	}
	e.u8(marker0StrictArray)
	e.u32(uint32(len(a)))
	// The index is taken now, as the decoder does; the identity is
	// recorded only once complete, since the decoder refuses references to
	// an unfinished array.
	idx := e.n0
	e.register0(nil)
	if err := e.enter(); err != nil {
		return err
	}
	defer e.leave()
	for i, v := range a {
		if err := e.value0(v); err != nil {
			return at(err, fmt.Sprintf("[%d]", i))
		}
	}
	if key, ok := identity(a); ok {
		e.remember0(key, idx)
	}
	return nil
}
