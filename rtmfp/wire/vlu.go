package wire

// maxVLUSize bounds a VLU to 9 bytes (63 bits): longer ones are refused,
// so no value overflows a uint64.
const maxVLUSize = 9

// AppendVLU appends v as a variable length unsigned integer (RFC 7016
// §2.1.2): big-endian 7-bit groups, high bit set on all but the last.
func AppendVLU(dst []byte, v uint64) []byte {
	var buf [10]byte
	i := len(buf) - 1
	buf[i] = byte(v & 0x7f)
	for v >>= 7; v != 0; v >>= 7 {
		i--
		buf[i] = byte(v&0x7f) | 0x80
	}
	return append(dst, buf[i:]...)
}

// vluSize is the encoded length of v.
func vluSize(v uint64) int {
	n := 1
	for v >>= 7; v != 0; v >>= 7 {
		n++
	}
	return n
}

// ParseVLU decodes a VLU at the start of b and returns it with its length.
func ParseVLU(b []byte) (uint64, int, error) {
	var v uint64
	for i := 0; i < len(b); i++ {
		if i == maxVLUSize {
			return 0, 0, errVLUTooLong
		}
		v = v<<7 | uint64(b[i]&0x7f)
		if b[i]&0x80 == 0 {
			return v, i + 1, nil
		}
	}
	return 0, 0, ErrBufferTooShort
}

// parseField decodes a VLU length followed by that many bytes.
func parseField(b []byte) (field []byte, n int, err error) {
	l, n, err := ParseVLU(b)
	if err != nil {
		return nil, 0, err
	}
	if l > uint64(len(b)-n) {
		return nil, 0, errFieldTooLong
	}
	return b[n : n+int(l)], n + int(l), nil
}

// appendField appends len(v) as a VLU and then v.
func appendField(dst, v []byte) []byte {
	return append(AppendVLU(dst, uint64(len(v))), v...)
}

// option is one entry of an option list (RFC 7016 §2.1.3). A marker (an
// option of length 0) ends a list and has marker set.
type option struct {
	typ    uint64
	value  []byte
	marker bool
}

// parseOption decodes one option at the start of b.
func parseOption(b []byte) (option, int, error) {
	f, n, err := parseField(b)
	if err != nil {
		return option{}, 0, err
	}
	if len(f) == 0 {
		return option{marker: true}, n, nil
	}
	typ, tn, err := ParseVLU(f)
	if err != nil {
		return option{}, 0, ErrBadOption
	}
	return option{typ: typ, value: f[tn:]}, n, nil
}

// AppendOption appends an option of type typ with value v.
func AppendOption(dst []byte, typ uint64, v []byte) []byte {
	dst = AppendVLU(dst, uint64(vluSize(typ)+len(v)))
	dst = AppendVLU(dst, typ)
	return append(dst, v...)
}

// appendOptionVLU appends an option whose value is the VLU v.
func appendOptionVLU(dst []byte, typ, v uint64) []byte {
	dst = AppendVLU(dst, uint64(vluSize(typ)+vluSize(v)))
	dst = AppendVLU(dst, typ)
	return AppendVLU(dst, v)
}

// parseOptionList decodes options from b up to a marker or the end of b
// (certificates and keying components have no marker; a marker ends the
// part that matters). It returns the options and the bytes consumed,
// including the marker, and whether a marker ended them. At most max
// options are returned; more is an error.
func parseOptionList(b []byte, max int) ([]option, int, bool, error) {
	var opts []option
	n := 0
	for n < len(b) {
		o, l, err := parseOption(b[n:])
		if err != nil {
			return nil, 0, false, err
		}
		n += l
		if o.marker {
			return opts, n, true, nil
		}
		if len(opts) == max {
			return nil, 0, false, ErrBadOption
		}
		opts = append(opts, o)
	}
	return opts, n, false, nil
}

// findOption returns the value of the first option of type typ.
func findOption(opts []option, typ uint64) ([]byte, bool) {
	for _, o := range opts {
		if o.typ == typ {
			return o.value, true
		}
	}
	return nil, false
}
