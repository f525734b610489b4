package message

import (
	"fmt"

	"github.com/flashvox/flashvox/amf"
)

// Command is a decoded command message (NetConnection/NetStream invoke):
// name, transaction id, command object (nil for AMF null) and arguments.
// AMF3 says it came as (or is to be sent as) type 17.
type Command struct {
	Name   string
	TxID   float64
	Object any
	Args   []any
	AMF3   bool
}

// ParseCommand decodes a type 20 (AMF0) or type 17 (AMF3) command message.
// Type 17 payloads start with a 0x00 format byte followed by AMF0 values
// (which may switch to AMF3 with the 0x11 marker); the byte is tolerated
// missing.
func ParseCommand(m *Message) (*Command, error) {
	p := m.Payload
	c := &Command{}
	switch m.Type {
	case TypeCommandAMF0:
	case TypeCommandAMF3:
		c.AMF3 = true
		if len(p) > 0 && p[0] == 0x00 {
			p = p[1:]
		}
	default:
		return nil, fmt.Errorf("%w: type %d", ErrNotCommand, m.Type)
	}
	vals, err := amf.Decode0(p)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadCommand, err)
	}
	if len(vals) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrBadCommand)
	}
	name, ok := vals[0].(string)
	if !ok {
		return nil, fmt.Errorf("%w: name is %T, not string", ErrBadCommand, vals[0])
	}
	c.Name = name
	if len(vals) > 1 {
		// Some senders (onStatus from old servers) omit it; keep 0 then.
		tx, ok := vals[1].(float64)
		if !ok && vals[1] != nil {
			return nil, fmt.Errorf("%w: %s: transaction id is %T, not number", ErrBadCommand, name, vals[1])
		}
		c.TxID = tx
	}
	if len(vals) > 2 {
		c.Object = vals[2]
	}
	if len(vals) > 3 {
		c.Args = vals[3:]
	}
	return c, nil
}

// AppendPayload appends the command's encoded payload to dst (with the 0x00
// format byte first when AMF3).
func (c *Command) AppendPayload(dst []byte) ([]byte, error) {
	if c.AMF3 {
		dst = append(dst, 0x00)
	}
	vals := make([]any, 0, 3+len(c.Args))
	vals = append(vals, c.Name, c.TxID, c.Object)
	vals = append(vals, c.Args...)
	return amf.Encode0(dst, vals...)
}

// MarshalMessage returns c as a command message on streamID (0 for
// NetConnection commands), type 17 if c.AMF3 else 20.
func (c *Command) MarshalMessage(streamID uint32) (*Message, error) {
	p, err := c.AppendPayload(nil)
	if err != nil {
		return nil, err
	}
	typ := TypeCommandAMF0
	if c.AMF3 {
		typ = TypeCommandAMF3
	}
	return &Message{Type: typ, StreamID: streamID, ChunkStreamID: CSIDCommand, Payload: p}, nil
}

// ParseData decodes a data message (type 18, or type 15 with its leading
// 0x00 byte), e.g. @setDataFrame or onMetaData.
func ParseData(m *Message) ([]any, error) {
	p := m.Payload
	switch m.Type {
	case TypeDataAMF0:
	case TypeDataAMF3:
		if len(p) > 0 && p[0] == 0x00 {
			p = p[1:]
		}
	default:
		return nil, fmt.Errorf("rtmp: not a data message: type %d", m.Type)
	}
	return amf.Decode0(p)
}

// StatusObject returns the info object of an onStatus/_result/_error command
// (the first argument that is an object), or nil.
func (c *Command) StatusObject() *amf.Object {
	for _, a := range c.Args {
		if o, ok := a.(*amf.Object); ok {
			return o
		}
	}
	if o, ok := c.Object.(*amf.Object); ok && c.Name == "onStatus" {
		return o
	}
	return nil
}
