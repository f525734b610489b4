package amf

// AMF0 type markers (AMF0 spec §2.1).
const (
	marker0Number      = 0x00
	marker0Boolean     = 0x01
	marker0String      = 0x02
	marker0Object      = 0x03
	marker0MovieClip   = 0x04
	marker0Null        = 0x05
	marker0Undefined   = 0x06
	marker0Reference   = 0x07
	marker0ECMAArray   = 0x08
	marker0ObjectEnd   = 0x09
	marker0StrictArray = 0x0A
	marker0Date        = 0x0B
	marker0LongString  = 0x0C
	marker0Unsupported = 0x0D
	marker0RecordSet   = 0x0E
	marker0XMLDocument = 0x0F
	marker0TypedObject = 0x10
	marker0AVMPlus     = 0x11
)

// Decode0 decodes all AMF0 values in b, in order, with the default Limits.
// An avmplus-object marker (0x11) switches to AMF3 for the one value that
// follows it.
func Decode0(b []byte) ([]any, error) {
	return Decode0Limits(b, Limits{})
}

// Decode0Limits is Decode0 with explicit limits.
func Decode0Limits(b []byte, l Limits) ([]any, error) {
	d := newDecoder(b, l)
	var out []any
	for d.off < len(d.b) {
		v, err := d.value0()
		if err != nil {
			return nil, err
		}
		out = push(out, v)
	}
	return out, nil
}

// value0 decodes one value: one case per AMF0 marker, kept in one switch
// (long on purpose) so the whole table and its bounds read at once.
func (d *decoder) value0() (any, error) {
	d.amf = 0
	start := d.off
	m, err := d.u8("type marker")
	if err != nil {
		return nil, err
	}
	if err := d.count(start); err != nil {
		return nil, err
	}
	switch m {
	case marker0Number:
		return d.f64("number")
	case marker0Boolean:
		v, err := d.u8("boolean")
		return v != 0, err
	case marker0String:
		return d.string0(false, "string")
	case marker0LongString:
		return d.string0(true, "long string")
	case marker0XMLDocument:
		s, err := d.string0(true, "xml document")
		return XMLDocument(s), err
	case marker0Null:
		return nil, nil
	case marker0Undefined:
		return Undefined, nil
	case marker0Unsupported:
		return UnsupportedType{}, nil
	case marker0Object:
		return d.object0(start, "")
	case marker0TypedObject:
		class, err := d.string0(false, "typed object class name")
		if err != nil {
			return nil, err
		}
		return d.object0(start, class)
	case marker0ECMAArray:
		// The count is only a hint (ffmpeg and Flash disagree on it); the
		// members end with the object-end marker like an object's.
		if _, err := d.u32("ecma array count"); err != nil {
			return nil, err
		}
		a := &ECMAArray{}
		d.refs0 = push[any](d.refs0, a)
		if err := d.enter(start); err != nil {
			return nil, err
		}
		defer d.leave()
		a.Props, err = d.props0()
		return a, err
	case marker0StrictArray:
		return d.strictArray0(start)
	case marker0Reference:
		idx, err := d.u16("reference index")
		if err != nil {
			return nil, err
		}
		if int(idx) >= len(d.refs0) {
			return nil, d.errf(start, ErrBadReference, "reference %d to one of %d earlier objects", idx, len(d.refs0))
		}
		v := d.refs0[idx]
		if _, ok := v.(inProgress); ok {
			return nil, d.errf(start, ErrBadReference, "reference %d to an array still being decoded", idx)
		}
		return v, nil
	case marker0Date:
		ms, err := d.f64("date")
		if err != nil {
			return nil, err
		}
		// The time-zone field is reserved and should be 0 (AMF0 spec §2.13).
		if _, err := d.u16("date time zone"); err != nil {
			return nil, err
		}
		return d.date(start, ms)
	case marker0AVMPlus:
		// AMF0 spec §3.1: the value that follows is AMF3, with its own
		// reference tables.
		saved := d.ctx3
		d.ctx3 = &ctx3{}
		v, err := d.value3()
		d.ctx3 = saved
		d.amf = 0
		return v, err
	case marker0MovieClip, marker0RecordSet:
		return nil, d.errf(start, ErrRefusedMarker, "marker 0x%02x is reserved", m)
	case marker0ObjectEnd:
		return nil, d.errf(start, ErrUnexpectedObjectEnd, "object-end marker outside an object")
	default:
		return nil, d.errf(start, ErrUnknownMarker, "marker 0x%02x", m)
	}
}

// string0 reads an AMF0 UTF-8 (u16 length) or UTF-8-long (u32 length).
func (d *decoder) string0(long bool, what string) (string, error) {
	var n uint32
	if long {
		v, err := d.u32(what + " length")
		if err != nil {
			return "", err
		}
		n = v
	} else {
		v, err := d.u16(what + " length")
		if err != nil {
			return "", err
		}
		n = uint32(v)
	}
	b, err := d.bytes(uint64(n), what)
	return string(b), err
}

func (d *decoder) object0(start int, class string) (*Object, error) {
	o := &Object{Class: class}
	// Registered before its members so that members may refer to it (AMF0
	// spec §2.9 allows cyclic graphs).
	d.refs0 = push[any](d.refs0, o)
	if err := d.enter(start); err != nil {
		return nil, err
	}
	defer d.leave()
	var err error
	o.Props, err = d.props0()
	return o, err
}

// props0 reads object properties up to the empty key and object-end
// marker (AMF0 spec §2.5).
func (d *decoder) props0() ([]Prop, error) {
	var props []Prop
	for {
		keyOff := d.off
		key, err := d.string0(false, "property name")
		if err != nil {
			return nil, err
		}
		if key == "" {
			m, err := d.u8("object-end marker")
			if err != nil {
				return nil, err
			}
			if m != marker0ObjectEnd {
				return nil, d.errf(keyOff, ErrMissingObjectEnd, "empty property name followed by marker 0x%02x", m)
			}
			return props, nil
		}
		v, err := d.value0()
		if err != nil {
			return nil, err
		}
		props = push(props, Prop{Key: key, Value: v})
	}
}

func (d *decoder) strictArray0(start int) ([]any, error) {
	n, err := d.u32("strict array count")
	if err != nil {
		return nil, err
	}
	// Every element takes at least one byte: refuse impossible counts
	// before allocating.
	if err := d.checkCount(start, uint64(n), 1, "strict array"); err != nil {
		return nil, err
	}
	idx := len(d.refs0)
	d.refs0 = push[any](d.refs0, inProgress{})
	if err := d.enter(start); err != nil {
		return nil, err
	}
	defer d.leave()
	arr := make([]any, n)
	for i := range arr {
		if arr[i], err = d.value0(); err != nil {
			return nil, err
		}
	}
	d.refs0[idx] = arr
	return arr, nil
}
