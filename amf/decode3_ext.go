package amf

// Flex externalizable classes this package can read; their
// writeExternal is a single writeObject (BlazeDS ArrayCollection.java,
// ObjectProxy.java).
const (
	classArrayCollection = "flex.messaging.io.ArrayCollection"
	classObjectProxy     = "flex.messaging.io.ObjectProxy"
)

func (d *decoder) externalizable3(start int, class string) (any, error) {
	switch class {
	case classArrayCollection:
		c := &ArrayCollection{}
		d.ctx3.objs = push[any](d.ctx3.objs, c)
		if err := d.enter(start); err != nil {
			return nil, err
		}
		defer d.leave()
		var err error
		c.Source, err = d.value3()
		return c, err
	case classObjectProxy:
		p := &ObjectProxy{}
		d.ctx3.objs = push[any](d.ctx3.objs, p)
		if err := d.enter(start); err != nil {
			return nil, err
		}
		defer d.leave()
		var err error
		p.Object, err = d.value3()
		return p, err
	default:
		return nil, d.errf(start, ErrUnknownExternalizable, "class %q", class)
	}
}

// numVector3 reads Vector.<int>, Vector.<uint> or Vector.<Number> (AMF3
// spec §3.15): count, fixed flag, then 4- or 8-byte big-endian items.
func (d *decoder) numVector3(start int, m byte) (any, error) {
	v, n, isRef, err := d.objRef(start, "vector")
	if err != nil || isRef {
		return v, err
	}
	if _, err := d.u8("vector fixed flag"); err != nil {
		return nil, err
	}
	size := 4
	if m == marker3VectorDouble {
		size = 8
	}
	if err := d.checkCount(start, uint64(n), size, "vector"); err != nil {
		return nil, err
	}
	switch m {
	case marker3VectorInt:
		out := make([]int32, n)
		for i := range out {
			u, _ := d.u32("vector item")
			out[i] = int32(u)
		}
		v = out
	case marker3VectorUint:
		out := make([]uint32, n)
		for i := range out {
			out[i], _ = d.u32("vector item")
		}
		v = out
	default:
		out := make([]float64, n)
		for i := range out {
			out[i], _ = d.f64("vector item")
		}
		v = out
	}
	d.elems += int(n)
	d.ctx3.objs = push[any](d.ctx3.objs, v)
	return v, nil
}

func (d *decoder) objectVector3(start int) (any, error) {
	v, n, isRef, err := d.objRef(start, "object vector")
	if err != nil || isRef {
		return v, err
	}
	if _, err := d.u8("vector fixed flag"); err != nil {
		return nil, err
	}
	if _, err := d.string3("vector type name"); err != nil {
		return nil, err
	}
	if err := d.checkCount(start, uint64(n), 1, "object vector"); err != nil {
		return nil, err
	}
	idx := d.reserve()
	if err := d.enter(start); err != nil {
		return nil, err
	}
	defer d.leave()
	out := make([]any, n)
	for i := range out {
		if out[i], err = d.value3(); err != nil {
			return nil, err
		}
	}
	d.ctx3.objs[idx] = out
	return out, nil
}

// dictionary3 reads a Dictionary (AMF3 spec §3.16): count, weak-keys flag,
// then key/value pairs.
func (d *decoder) dictionary3(start int) (any, error) {
	v, n, isRef, err := d.objRef(start, "dictionary")
	if err != nil || isRef {
		return v, err
	}
	weak, err := d.u8("dictionary weak flag")
	if err != nil {
		return nil, err
	}
	if err := d.checkCount(start, uint64(n), 2, "dictionary"); err != nil {
		return nil, err
	}
	dict := &Dictionary{Weak: weak != 0, Entries: make([]DictEntry, n)}
	d.ctx3.objs = push[any](d.ctx3.objs, dict)
	if err := d.enter(start); err != nil {
		return nil, err
	}
	defer d.leave()
	for i := range dict.Entries {
		e := &dict.Entries[i]
		if e.Key, err = d.value3(); err != nil {
			return nil, err
		}
		if e.Value, err = d.value3(); err != nil {
			return nil, err
		}
	}
	return dict, nil
}
