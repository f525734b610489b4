package wire

// User data flags (RFC 7016 §2.3.11).
const (
	DataOptions   = 0x80
	DataAbandon   = 0x02
	DataFinal     = 0x01
	FragMask      = 0x30
	FragWhole     = 0x00
	FragBegin     = 0x10
	FragEnd       = 0x20
	FragMiddle    = 0x30
	optMetadata   = 0x00
	optReturnFlow = 0x0a
	optMandatory  = 0x2000 // option types below this must be understood
	maxMetadata   = 512
	maxDataOpts   = 8
)

// UserData is a User Data chunk (0x10) or, decoded in the context of the
// previous one, a Next User Data chunk (0x11).
type UserData struct {
	Flags     uint8
	FlowID    uint64
	Seq       uint64
	FSNOffset uint64 // Seq minus the forward sequence number
	Metadata  []byte // nil when absent
	// ReturnFlow is the associated flow ID; HasReturnFlow tells if present.
	ReturnFlow    uint64
	HasReturnFlow bool
	// Unknown is set when a mandatory option we do not understand was seen
	// (the flow must be rejected).
	Unknown bool
	Data    []byte
}

// Unmarshal decodes a User Data chunk body.
func (u *UserData) Unmarshal(b []byte) error {
	if len(b) < 1 {
		return ErrBufferTooShort
	}
	u.Flags = b[0]
	n := 1
	var err error
	var l int
	for _, p := range []*uint64{&u.FlowID, &u.Seq, &u.FSNOffset} {
		if *p, l, err = ParseVLU(b[n:]); err != nil {
			return err
		}
		n += l
	}
	if u.FSNOffset > u.Seq {
		return ErrBadOption
	}
	return u.unmarshalRest(b[n:])
}

// UnmarshalNext decodes a Next User Data chunk body following prev.
func (u *UserData) UnmarshalNext(b []byte, prev *UserData) error {
	if len(b) < 1 {
		return ErrBufferTooShort
	}
	u.Flags = b[0]
	u.FlowID = prev.FlowID
	u.Seq = prev.Seq + 1
	u.FSNOffset = prev.FSNOffset + 1
	return u.unmarshalRest(b[1:])
}

func (u *UserData) unmarshalRest(b []byte) error {
	u.Metadata, u.ReturnFlow, u.HasReturnFlow, u.Unknown = nil, 0, false, false
	if u.Flags&DataOptions != 0 {
		opts, n, marker, err := parseOptionList(b, maxDataOpts)
		if err != nil {
			return err
		}
		if !marker {
			return ErrBadOption // options must end with a marker
		}
		for _, o := range opts {
			switch o.typ {
			case optMetadata:
				if len(o.value) > maxMetadata {
					return ErrBadOption
				}
				u.Metadata = o.value
				if u.Metadata == nil {
					u.Metadata = []byte{}
				}
			case optReturnFlow:
				v, _, err := ParseVLU(o.value)
				if err != nil {
					return err
				}
				u.ReturnFlow, u.HasReturnFlow = v, true
			default:
				if o.typ < optMandatory {
					u.Unknown = true
				}
			}
		}
		b = b[n:]
	}
	u.Data = b
	return nil
}

// AppendTo appends the chunk body (type 0x10, or 0x11 when next is true:
// same flow, sequence number one more than the previous chunk's).
func (u *UserData) AppendTo(dst []byte, next bool) []byte {
	dst = append(dst, u.Flags)
	if !next {
		dst = AppendVLU(dst, u.FlowID)
		dst = AppendVLU(dst, u.Seq)
		dst = AppendVLU(dst, u.FSNOffset)
	}
	if u.Flags&DataOptions != 0 {
		if u.Metadata != nil {
			dst = AppendOption(dst, optMetadata, u.Metadata)
		}
		if u.HasReturnFlow {
			dst = appendOptionVLU(dst, optReturnFlow, u.ReturnFlow)
		}
		dst = append(dst, 0) // marker
	}
	return append(dst, u.Data...)
}
