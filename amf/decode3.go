package amf

// AMF3 type markers (AMF3 spec §3.1).
const (
	marker3Undefined    = 0x00
	marker3Null         = 0x01
	marker3False        = 0x02
	marker3True         = 0x03
	marker3Integer      = 0x04
	marker3Double       = 0x05
	marker3String       = 0x06
	marker3XMLDoc       = 0x07
	marker3Date         = 0x08
	marker3Array        = 0x09
	marker3Object       = 0x0A
	marker3XML          = 0x0B
	marker3ByteArray    = 0x0C
	marker3VectorInt    = 0x0D
	marker3VectorUint   = 0x0E
	marker3VectorDouble = 0x0F
	marker3VectorObject = 0x10
	marker3Dictionary   = 0x11
)

// Largest U29 value; AMF3 integers are 29-bit two's complement (§1.3.1).
const (
	maxU29 = 1<<29 - 1
	minI29 = -1 << 28
	maxI29 = 1<<28 - 1
)

// Decode3 decodes all AMF3 values in b, in order, with the default Limits.
// Each top-level value starts with empty reference tables.
func Decode3(b []byte) ([]any, error) {
	return Decode3Limits(b, Limits{})
}

// Decode3Limits is Decode3 with explicit limits.
func Decode3Limits(b []byte, l Limits) ([]any, error) {
	d := newDecoder(b, l)
	var out []any
	for d.off < len(d.b) {
		d.ctx3 = &ctx3{}
		v, err := d.value3()
		if err != nil {
			return nil, err
		}
		out = push(out, v)
	}
	return out, nil
}

// u29 reads a variable-length unsigned 29-bit integer (AMF3 spec §1.3.1):
// up to three bytes of 7 bits with a continuation bit, then a full byte.
func (d *decoder) u29(what string) (uint32, error) {
	var v uint32
	for i := 0; i < 4; i++ {
		b, err := d.u8(what)
		if err != nil {
			return 0, err
		}
		if i == 3 {
			return v<<8 | uint32(b), nil
		}
		v = v<<7 | uint32(b&0x7f)
		if b&0x80 == 0 {
			return v, nil
		}
	}
	return v, nil
}

func (d *decoder) value3() (any, error) {
	d.amf = 3
	start := d.off
	m, err := d.u8("type marker")
	if err != nil {
		return nil, err
	}
	if err := d.count(start); err != nil {
		return nil, err
	}
	switch m {
	case marker3Undefined:
		return Undefined, nil
	case marker3Null:
		return nil, nil
	case marker3False:
		return false, nil
	case marker3True:
		return true, nil
	case marker3Integer:
		u, err := d.u29("integer")
		if err != nil {
			return nil, err
		}
		i := int32(u)
		if u&(1<<28) != 0 { // sign-extend the 29-bit value
			i = int32(u) - 1<<29
		}
		return float64(i), nil
	case marker3Double:
		return d.f64("double")
	case marker3String:
		return d.string3("string")
	case marker3XMLDoc, marker3XML:
		return d.xml3(start, m)
	case marker3Date:
		return d.date3(start)
	case marker3Array:
		return d.array3(start)
	case marker3Object:
		return d.object3(start)
	case marker3ByteArray:
		return d.byteArray3(start)
	case marker3VectorInt, marker3VectorUint, marker3VectorDouble:
		return d.numVector3(start, m)
	case marker3VectorObject:
		return d.objectVector3(start)
	case marker3Dictionary:
		return d.dictionary3(start)
	default:
		return nil, d.errf(start, ErrUnknownMarker, "marker 0x%02x", m)
	}
}

// string3 reads a UTF-8-vr (AMF3 spec §1.3.2): a string reference or an
// inline string, which non-empty strings enter the string table.
func (d *decoder) string3(what string) (string, error) {
	start := d.off
	h, err := d.u29(what + " header")
	if err != nil {
		return "", err
	}
	if h&1 == 0 {
		idx := h >> 1
		if int(idx) >= len(d.ctx3.strs) {
			return "", d.errf(start, ErrBadReference, "%s reference %d to one of %d earlier strings", what, idx, len(d.ctx3.strs))
		}
		return d.ctx3.strs[idx], nil
	}
	b, err := d.bytes(uint64(h>>1), what)
	if err != nil {
		return "", err
	}
	if len(b) == 0 {
		return "", nil // the empty string is never sent by reference
	}
	s := string(b)
	d.ctx3.strs = push(d.ctx3.strs, s)
	return s, nil
}

// objRef reads the U29 header shared by complex AMF3 values. It returns
// either the referenced value (isRef true) or the inline length/count.
func (d *decoder) objRef(start int, what string) (v any, n uint32, isRef bool, err error) {
	h, err := d.u29(what + " header")
	if err != nil {
		return nil, 0, false, err
	}
	if h&1 == 1 {
		return nil, h >> 1, false, nil
	}
	idx := h >> 1
	if int(idx) >= len(d.ctx3.objs) {
		return nil, 0, true, d.errf(start, ErrBadReference, "%s reference %d to one of %d earlier objects", what, idx, len(d.ctx3.objs))
	}
	v = d.ctx3.objs[idx]
	if _, ok := v.(inProgress); ok {
		return nil, 0, true, d.errf(start, ErrBadReference, "%s reference %d to a value still being decoded", what, idx)
	}
	return v, 0, true, nil
}

// reserve adds an in-progress slot to the object table and returns its index.
func (d *decoder) reserve() int {
	d.ctx3.objs = push[any](d.ctx3.objs, inProgress{})
	return len(d.ctx3.objs) - 1
}

func (d *decoder) xml3(start int, m byte) (any, error) {
	what := "xml"
	if m == marker3XMLDoc {
		what = "xml document"
	}
	v, n, isRef, err := d.objRef(start, what)
	if err != nil || isRef {
		return v, err
	}
	b, err := d.bytes(uint64(n), what)
	if err != nil {
		return nil, err
	}
	if m == marker3XMLDoc {
		v = XMLDocument(b)
	} else {
		v = XML(b)
	}
	d.ctx3.objs = push[any](d.ctx3.objs, v)
	return v, nil
}

func (d *decoder) date3(start int) (any, error) {
	v, _, isRef, err := d.objRef(start, "date")
	if err != nil || isRef {
		return v, err
	}
	ms, err := d.f64("date")
	if err != nil {
		return nil, err
	}
	t, err := d.date(start, ms)
	if err != nil {
		return nil, err
	}
	d.ctx3.objs = push[any](d.ctx3.objs, t)
	return t, nil
}

func (d *decoder) byteArray3(start int) (any, error) {
	v, n, isRef, err := d.objRef(start, "byte array")
	if err != nil || isRef {
		return v, err
	}
	b, err := d.bytes(uint64(n), "byte array")
	if err != nil {
		return nil, err
	}
	out := append([]byte{}, b...)
	d.ctx3.objs = push[any](d.ctx3.objs, out)
	return out, nil
}

// array3 reads an array (AMF3 spec §3.11): the associative part up to an
// empty key, then the dense part.
func (d *decoder) array3(start int) (any, error) {
	v, n, isRef, err := d.objRef(start, "array")
	if err != nil || isRef {
		return v, err
	}
	if err := d.checkCount(start, uint64(n), 1, "array"); err != nil {
		return nil, err
	}
	idx := d.reserve()
	if err := d.enter(start); err != nil {
		return nil, err
	}
	defer d.leave()
	var assoc []Prop
	for {
		key, err := d.string3("array key")
		if err != nil {
			return nil, err
		}
		if key == "" {
			break
		}
		v, err := d.value3()
		if err != nil {
			return nil, err
		}
		assoc = push(assoc, Prop{Key: key, Value: v})
	}
	dense := make([]any, n)
	for i := range dense {
		if dense[i], err = d.value3(); err != nil {
			return nil, err
		}
	}
	switch {
	case len(assoc) == 0:
		v = dense
	case n == 0:
		v = &ECMAArray{Props: assoc}
	default:
		v = &MixedArray{Assoc: assoc, Dense: dense}
	}
	d.ctx3.objs[idx] = v
	return v, nil
}

// object3 reads an object with inline or referenced traits (AMF3 spec §3.12).
func (d *decoder) object3(start int) (any, error) {
	v, h, isRef, err := d.objRef(start, "object")
	if err != nil || isRef {
		return v, err
	}
	tr, err := d.traits3(start, h)
	if err != nil {
		return nil, err
	}
	if tr.ext {
		return d.externalizable3(start, tr.class)
	}
	o := &Object{Class: tr.class}
	// Registered before its members: objects may refer to themselves.
	d.ctx3.objs = push[any](d.ctx3.objs, o)
	if err := d.enter(start); err != nil {
		return nil, err
	}
	defer d.leave()
	// A traits reference costs one byte however many members it declares.
	if err := d.checkCount(start, uint64(len(tr.sealed)), 1, "sealed members"); err != nil {
		return nil, err
	}
	o.Props = make([]Prop, 0, len(tr.sealed))
	for _, name := range tr.sealed {
		v, err := d.value3()
		if err != nil {
			return nil, err
		}
		o.Props = append(o.Props, Prop{Key: name, Value: v})
	}
	if tr.dynamic {
		for {
			key, err := d.string3("dynamic member name")
			if err != nil {
				return nil, err
			}
			if key == "" {
				break
			}
			v, err := d.value3()
			if err != nil {
				return nil, err
			}
			o.Props = push(o.Props, Prop{Key: key, Value: v})
		}
	}
	return o, nil
}

// traits3 reads the traits part of an object header; h is the U29 without
// its object-inline bit.
func (d *decoder) traits3(start int, h uint32) (*traits3, error) {
	if h&1 == 0 {
		idx := h >> 1
		if int(idx) >= len(d.ctx3.traits) {
			return nil, d.errf(start, ErrBadReference, "traits reference %d to one of %d earlier traits", idx, len(d.ctx3.traits))
		}
		return d.ctx3.traits[idx], nil
	}
	h >>= 1
	tr := &traits3{ext: h&1 == 1, dynamic: h&2 == 2}
	nSealed := h >> 2
	var err error
	if tr.class, err = d.string3("class name"); err != nil {
		return nil, err
	}
	if !tr.ext {
		if err := d.checkCount(start, uint64(nSealed), 1, "sealed member names"); err != nil {
			return nil, err
		}
		tr.sealed = make([]string, nSealed)
		for i := range tr.sealed {
			if tr.sealed[i], err = d.string3("sealed member name"); err != nil {
				return nil, err
			}
		}
	}
	d.ctx3.traits = push(d.ctx3.traits, tr)
	return tr, nil
}
