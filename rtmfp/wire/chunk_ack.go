package wire

// MaxAckRanges bounds the ranges an acknowledgement carries or is read
// with: more are ignored (the sender retransmits them later).
const MaxAckRanges = 64

// SeqRange is an inclusive range of sequence numbers.
type SeqRange struct{ From, To uint64 }

// Ack is a Range Acknowledgement chunk (0x51, RFC 7016 §2.3.13); bitmap
// acknowledgements (0x50) are decoded into the same form.
type Ack struct {
	FlowID       uint64
	BufferBlocks uint64 // receive buffer available, in 1024-byte blocks
	Cumulative   uint64 // every sequence number up to this one is received
	Ranges       []SeqRange
}

// Unmarshal decodes a range acknowledgement body.
func (a *Ack) Unmarshal(b []byte) error {
	n, err := a.unmarshalHead(b)
	if err != nil {
		return err
	}
	cur := a.Cumulative
	for b = b[n:]; len(b) > 0; {
		holes, l, err := ParseVLU(b)
		if err != nil {
			return err
		}
		b = b[l:]
		recv, l, err := ParseVLU(b)
		if err != nil {
			return err
		}
		b = b[l:]
		from := cur + holes + 2
		to := from + recv
		if from < cur || to < from {
			return ErrBadOption // overflow
		}
		if len(a.Ranges) < MaxAckRanges {
			a.Ranges = append(a.Ranges, SeqRange{from, to})
		}
		cur = to
	}
	return nil
}

// UnmarshalBitmap decodes a bitmap acknowledgement body.
func (a *Ack) UnmarshalBitmap(b []byte) error {
	n, err := a.unmarshalHead(b)
	if err != nil {
		return err
	}
	for i, byt := range b[n:] {
		for bit := range 8 {
			if byt&(1<<bit) == 0 {
				continue
			}
			s := a.Cumulative + 2 + uint64(8*i+bit)
			if k := len(a.Ranges); k > 0 && a.Ranges[k-1].To+1 == s {
				a.Ranges[k-1].To = s
			} else if k < MaxAckRanges {
				a.Ranges = append(a.Ranges, SeqRange{s, s})
			}
		}
	}
	return nil
}

func (a *Ack) unmarshalHead(b []byte) (int, error) {
	a.Ranges = a.Ranges[:0]
	n := 0
	for _, p := range []*uint64{&a.FlowID, &a.BufferBlocks, &a.Cumulative} {
		v, l, err := ParseVLU(b[n:])
		if err != nil {
			return 0, err
		}
		*p = v
		n += l
	}
	return n, nil
}

// AppendTo appends the range acknowledgement body. Ranges must be sorted,
// disjoint and above Cumulative+1.
func (a *Ack) AppendTo(dst []byte) []byte {
	dst = AppendVLU(dst, a.FlowID)
	dst = AppendVLU(dst, a.BufferBlocks)
	dst = AppendVLU(dst, a.Cumulative)
	cur := a.Cumulative
	for _, r := range a.Ranges {
		dst = AppendVLU(dst, r.From-cur-2)
		dst = AppendVLU(dst, r.To-r.From)
		cur = r.To
	}
	return dst
}
