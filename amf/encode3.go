package amf

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Encode3 appends the AMF3 encoding of vals to dst. Each value starts with
// empty reference tables; within a value, repeated strings, traits and
// objects (same pointer, same slice, equal date or XML) are sent as
// references. Go integers in the 29-bit range are sent as AMF3 integers,
// float64 always as doubles.
func Encode3(dst []byte, vals ...any) ([]byte, error) {
	e := &encoder{buf: dst}
	return e.encode3All(vals)
}

func (e *encoder) encode3All(vals []any) ([]byte, error) {
	for i, v := range vals {
		e.ctx3 = newEncCtx3()
		if err := e.value3(v); err != nil {
			return e.buf, at(err, fmt.Sprintf("[%d]", i))
		}
	}
	return e.buf, nil
}

// u29 writes a variable-length unsigned 29-bit integer (AMF3 spec §1.3.1).
func (e *encoder) u29(v uint32) {
	v &= maxU29
	switch {
	case v < 1<<7:
		e.u8(byte(v))
	case v < 1<<14:
		e.buf = append(e.buf, byte(v>>7)|0x80, byte(v&0x7f))
	case v < 1<<21:
		e.buf = append(e.buf, byte(v>>14)|0x80, byte(v>>7)|0x80, byte(v&0x7f))
	default:
		e.buf = append(e.buf, byte(v>>22)|0x80, byte(v>>15)|0x80, byte(v>>8)|0x80, byte(v))
	}
}

// lenHeader writes an inline-value U29 header (length<<1 | 1).
func (e *encoder) lenHeader(n int, what string) error {
	if n > maxU29>>1 {
		return e.errf(ErrValueTooLarge, "%s of %d exceeds the U29 range", what, n)
	}
	e.u29(uint32(n)<<1 | 1)
	return nil
}

// string3 writes a UTF-8-vr, by reference when already sent.
func (e *encoder) string3(s string) error {
	if s == "" {
		e.u8(0x01)
		return nil
	}
	if idx, ok := e.ctx3.strs[s]; ok && idx <= maxU29>>1 {
		e.u29(uint32(idx) << 1)
		return nil
	}
	if err := e.lenHeader(len(s), "string length"); err != nil {
		return err
	}
	e.buf = append(e.buf, s...)
	e.ctx3.strs[s] = len(e.ctx3.strs)
	return nil
}

// ref3 writes marker and an object reference if key was sent before.
func (e *encoder) ref3(marker byte, key any) bool {
	if key == nil {
		return false
	}
	idx, ok := e.ctx3.objs[key]
	if !ok || idx > maxU29>>1 {
		return false
	}
	e.u8(marker)
	e.u29(uint32(idx) << 1)
	return true
}

// register3 takes the next object-table index, as the decoder does, and
// records key (if any) for later references.
func (e *encoder) register3(key any) int {
	idx := e.ctx3.nobjs
	e.ctx3.nobjs++
	if key != nil {
		e.ctx3.objs[key] = idx
	}
	return idx
}

// value3 encodes one value: one case per Go type the AMF3 markers map to,
// kept in one switch (long on purpose) so the whole table reads at once.
func (e *encoder) value3(v any) error {
	e.amf = 3
	if err := e.grow(); err != nil {
		return err
	}
	if f, i, isInt, ok := number(v); ok {
		if isInt && i >= minI29 && i <= maxI29 {
			e.u8(marker3Integer)
			e.u29(uint32(i))
		} else {
			e.u8(marker3Double)
			e.f64(f)
		}
		return nil
	}
	key, _ := identity(v)
	switch v := v.(type) {
	case nil:
		e.u8(marker3Null)
	case UndefinedType, UnsupportedType:
		// AMF3 has no unsupported marker; undefined is the closest value.
		e.u8(marker3Undefined)
	case bool:
		if v {
			e.u8(marker3True)
		} else {
			e.u8(marker3False)
		}
	case string:
		e.u8(marker3String)
		return e.string3(v)
	case XMLDocument:
		return e.xml3(marker3XMLDoc, xmlDocKey{string(v)}, string(v))
	case XML:
		return e.xml3(marker3XML, xmlKey{string(v)}, string(v))
	case time.Time:
		ms := v.UnixMilli()
		if e.ref3(marker3Date, dateKey{ms}) {
			return nil
		}
		e.u8(marker3Date)
		e.u8(0x01)
		e.f64(float64(ms))
		e.register3(dateKey{ms})
	case []byte:
		if e.ref3(marker3ByteArray, key) {
			return nil
		}
		e.u8(marker3ByteArray)
		if err := e.lenHeader(len(v), "byte array length"); err != nil {
			return err
		}
		e.buf = append(e.buf, v...)
		e.register3(key)
	case []int32:
		return e.numVector3(marker3VectorInt, key, v)
	case []uint32:
		return e.numVector3(marker3VectorUint, key, v)
	case []float64:
		return e.numVector3(marker3VectorDouble, key, v)
	case []any:
		return e.array3(key, nil, v)
	case []string:
		return e.array3(nil, nil, stringsToAny(v))
	case *ECMAArray:
		if v == nil {
			e.u8(marker3Null)
			return nil
		}
		return e.array3(key, v.Props, nil)
	case ECMAArray:
		return e.array3(nil, v.Props, nil)
	case *MixedArray:
		if v == nil {
			e.u8(marker3Null)
			return nil
		}
		return e.array3(key, v.Assoc, v.Dense)
	case MixedArray:
		return e.array3(nil, v.Assoc, v.Dense)
	case *Object:
		if v == nil {
			e.u8(marker3Null)
			return nil
		}
		return e.object3(key, v.Class, v.Props)
	case Object:
		return e.object3(nil, v.Class, v.Props)
	case map[string]any:
		if v == nil {
			e.u8(marker3Null)
			return nil
		}
		return e.object3(nil, "", sortedProps(v))
	case *ArrayCollection:
		if v == nil {
			e.u8(marker3Null)
			return nil
		}
		return e.externalizable3(key, classArrayCollection, v.Source)
	case ArrayCollection:
		return e.externalizable3(nil, classArrayCollection, v.Source)
	case *ObjectProxy:
		if v == nil {
			e.u8(marker3Null)
			return nil
		}
		return e.externalizable3(key, classObjectProxy, v.Object)
	case ObjectProxy:
		return e.externalizable3(nil, classObjectProxy, v.Object)
	case *Dictionary:
		if v == nil {
			e.u8(marker3Null)
			return nil
		}
		return e.dictionary3(key, v)
	case Dictionary:
		return e.dictionary3(nil, &v)
	case ObjectVector:
		return e.objectVector3(&v)
	case *ObjectVector:
		if v == nil {
			e.u8(marker3Null)
			return nil
		}
		return e.objectVector3(v)
	case AVMPlus:
		return e.value3(v.Value)
	default:
		return e.errf(ErrUnsupportedValue, "type %T", v)
	}
	return nil
}

func (e *encoder) xml3(marker byte, key any, s string) error {
	if e.ref3(marker, key) {
		return nil
	}
	e.u8(marker)
	if err := e.lenHeader(len(s), "xml length"); err != nil {
		return err
	}
	e.buf = append(e.buf, s...)
	e.register3(key)
	return nil
}

func (e *encoder) numVector3(marker byte, key any, vec any) error {
	if e.ref3(marker, key) {
		return nil
	}
	e.u8(marker)
	var n int
	switch v := vec.(type) {
	case []int32:
		n = len(v)
	case []uint32:
		n = len(v)
	case []float64:
		n = len(v)
	}
	if err := e.lenHeader(n, "vector length"); err != nil {
		return err
	}
	e.u8(0) // not fixed
	switch v := vec.(type) {
	case []int32:
		for _, x := range v {
			e.u32(uint32(x))
		}
	case []uint32:
		for _, x := range v {
			e.u32(x)
		}
	case []float64:
		for _, x := range v {
			e.f64(x)
		}
	}
	e.register3(key)
	return nil
}

// array3 writes an array: associative part, empty key, dense part.
func (e *encoder) array3(key any, assoc []Prop, dense []any) error {
	if e.ref3(marker3Array, key) {
		return nil
	}
	e.u8(marker3Array)
	if err := e.lenHeader(len(dense), "array length"); err != nil {
		return err
	}
	// Index now, identity once complete: the decoder refuses references
	// to an unfinished array.
	idx := e.register3(nil)
	if err := e.enter(); err != nil {
		return err
	}
	defer e.leave()
	for _, p := range assoc {
		if p.Key == "" {
			return e.errf(ErrUnsupportedValue, "empty key in associative array")
		}
		if err := e.string3(p.Key); err != nil {
			return err
		}
		if err := e.value3(p.Value); err != nil {
			return at(err, "."+p.Key)
		}
	}
	e.u8(0x01) // empty key ends the associative part
	for i, v := range dense {
		if err := e.value3(v); err != nil {
			return at(err, "["+strconv.Itoa(i)+"]")
		}
	}
	if key != nil {
		e.ctx3.objs[key] = idx
	}
	return nil
}

// traitsKey identifies traits for the traits reference table.
func traitsKey(class string, names []string, dynamic bool) string {
	var b strings.Builder
	if dynamic {
		b.WriteByte('d')
	} else {
		b.WriteByte('s')
	}
	for _, s := range append([]string{class}, names...) {
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte(':')
		b.WriteString(s)
	}
	return b.String()
}

// object3 writes an object. Anonymous objects are dynamic with no sealed
// members; typed objects (and anonymous ones with an empty member name,
// which a dynamic part cannot carry) send every member as sealed.
func (e *encoder) object3(key any, class string, props []Prop) error {
	if e.ref3(marker3Object, key) {
		return nil
	}
	e.u8(marker3Object)
	dynamic := class == "" && !hasEmptyKey(props)
	var names []string
	if !dynamic {
		names = make([]string, len(props))
		for i, p := range props {
			names[i] = p.Key
		}
	}
	if err := e.traits3(traitsKey(class, names, dynamic), class, names, dynamic, false); err != nil {
		return err
	}
	e.register3(key)
	if err := e.enter(); err != nil {
		return err
	}
	defer e.leave()
	for _, p := range props {
		if dynamic {
			if err := e.string3(p.Key); err != nil {
				return err
			}
		}
		if err := e.value3(p.Value); err != nil {
			return at(err, "."+p.Key)
		}
	}
	if dynamic {
		e.u8(0x01)
	}
	return nil
}

// traits3 writes inline traits or a traits reference (AMF3 spec §3.12).
func (e *encoder) traits3(tkey, class string, names []string, dynamic, ext bool) error {
	if idx, ok := e.ctx3.traits[tkey]; ok && idx <= maxU29>>2 {
		e.u29(uint32(idx)<<2 | 0x01)
		return nil
	}
	if len(names) > maxU29>>4 {
		return e.errf(ErrValueTooLarge, "%d sealed members", len(names))
	}
	h := uint32(len(names))<<4 | 0x03
	if ext {
		h |= 0x04
	}
	if dynamic {
		h |= 0x08
	}
	e.u29(h)
	if err := e.string3(class); err != nil {
		return err
	}
	for _, n := range names {
		if err := e.string3(n); err != nil {
			return err
		}
	}
	e.ctx3.traits[tkey] = len(e.ctx3.traits)
	return nil
}

func (e *encoder) externalizable3(key any, class string, inner any) error {
	if e.ref3(marker3Object, key) {
		return nil
	}
	e.u8(marker3Object)
	if err := e.traits3("e"+class, class, nil, false, true); err != nil {
		return err
	}
	e.register3(key)
	if err := e.enter(); err != nil {
		return err
	}
	defer e.leave()
	return e.value3(inner)
}

func (e *encoder) dictionary3(key any, d *Dictionary) error {
	if e.ref3(marker3Dictionary, key) {
		return nil
	}
	e.u8(marker3Dictionary)
	if err := e.lenHeader(len(d.Entries), "dictionary length"); err != nil {
		return err
	}
	if d.Weak {
		e.u8(1)
	} else {
		e.u8(0)
	}
	e.register3(key)
	if err := e.enter(); err != nil {
		return err
	}
	defer e.leave()
	for i, en := range d.Entries {
		if err := e.value3(en.Key); err != nil {
			return at(err, fmt.Sprintf("{%d}", i))
		}
		if err := e.value3(en.Value); err != nil {
			return at(err, fmt.Sprintf("{%d}", i))
		}
	}
	return nil
}

func (e *encoder) objectVector3(v *ObjectVector) error {
	key, _ := identity(v.Items)
	if e.ref3(marker3VectorObject, key) {
		return nil
	}
	e.u8(marker3VectorObject)
	if err := e.lenHeader(len(v.Items), "vector length"); err != nil {
		return err
	}
	if v.Fixed {
		e.u8(1)
	} else {
		e.u8(0)
	}
	if err := e.string3(v.TypeName); err != nil {
		return err
	}
	idx := e.register3(nil)
	if err := e.enter(); err != nil {
		return err
	}
	defer e.leave()
	for i, it := range v.Items {
		if err := e.value3(it); err != nil {
			return at(err, "["+strconv.Itoa(i)+"]")
		}
	}
	if key != nil {
		e.ctx3.objs[key] = idx
	}
	return nil
}
