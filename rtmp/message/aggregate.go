package message

import "fmt"

// aggregateHeader is the FLV-tag-like header of each aggregate sub-message.
const aggregateHeader = 11

// SplitAggregate splits an aggregate message (type 22) into its sub-messages
// and calls fn for each. Sub-message timestamps are rebased so that the first
// one carries the aggregate's timestamp (RTMP 1.0 §7.1.6); the stream id and
// chunk stream id are the aggregate's. Payloads alias agg.Payload.
func SplitAggregate(agg *Message, fn func(*Message) error) error {
	p := agg.Payload
	var first uint32
	for i := 0; len(p) > 0; i++ {
		if len(p) < aggregateHeader {
			return fmt.Errorf("%w: sub-message %d header truncated", ErrBadAggregate, i)
		}
		size := int(be24(p[1:]))
		ts := be24(p[4:]) | uint32(p[7])<<24
		if len(p) < aggregateHeader+size {
			return fmt.Errorf("%w: sub-message %d declares %d bytes, %d left", ErrBadAggregate, i, size, len(p)-aggregateHeader)
		}
		if i == 0 {
			first = ts
		}
		sub := &Message{
			Type:          p[0],
			Timestamp:     agg.Timestamp + (ts - first),
			StreamID:      agg.StreamID,
			ChunkStreamID: agg.ChunkStreamID,
			Payload:       p[aggregateHeader : aggregateHeader+size : aggregateHeader+size],
		}
		if sub.Type == TypeAggregate || sub.IsControl() {
			return fmt.Errorf("%w: sub-message %d has type %d", ErrBadAggregate, i, sub.Type)
		}
		if err := fn(sub); err != nil {
			return err
		}
		p = p[aggregateHeader+size:]
		// The back pointer (previous tag size) follows each sub-message;
		// tolerate it missing after the last one.
		if len(p) >= 4 {
			p = p[4:]
		} else {
			p = nil
		}
	}
	return nil
}

// AppendAggregate appends msgs as aggregate sub-messages to dst, with the
// timestamps relative to nothing (as given); used by tests and tools.
func AppendAggregate(dst []byte, msgs ...*Message) []byte {
	for _, m := range msgs {
		n := len(m.Payload)
		dst = append(dst, m.Type, byte(n>>16), byte(n>>8), byte(n),
			byte(m.Timestamp>>16), byte(m.Timestamp>>8), byte(m.Timestamp), byte(m.Timestamp>>24),
			0, 0, 0)
		dst = append(dst, m.Payload...)
		t := uint32(n + aggregateHeader)
		dst = append(dst, byte(t>>24), byte(t>>16), byte(t>>8), byte(t))
	}
	return dst
}

func be24(b []byte) uint32 {
	return uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2])
}
