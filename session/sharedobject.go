package session

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"

	"github.com/flashvox/flashvox/rtmp/message"
)

// sharedObject is a parsed shared object message (RTMP 1.0 §7.1.3): the
// object's name, version, persistence and its events. flashvox hosts no
// remote shared objects; it parses the request to say clearly what it refuses.
type sharedObject struct {
	Name       string
	Version    uint32
	Persistent bool
	Events     []soEvent
}

type soEvent struct {
	Type uint8 // 1 use, 2 release, 3 request change, 4 change, 5 success, 6 send message, 7 status, 8 clear, 9 remove, 10 request remove, 11 use success
	Data []byte
}

var errBadSharedObject = errors.New("session: malformed shared object message")

// maxSOEvents bounds the events of one message; real clients send one or two.
const maxSOEvents = 64

// parseSharedObject reads a type 19 (or type 16, after its 0x00 format byte)
// payload. Every length is checked against what remains before use.
func parseSharedObject(m *message.Message) (*sharedObject, error) {
	p := m.Payload
	if m.Type == message.TypeSharedObjectAMF3 && len(p) > 0 && p[0] == 0 {
		p = p[1:]
	}
	if len(p) < 2 {
		return nil, fmt.Errorf("%w: no name", errBadSharedObject)
	}
	n := int(binary.BigEndian.Uint16(p))
	p = p[2:]
	if len(p) < n+12 {
		return nil, fmt.Errorf("%w: name of %d bytes and header need %d, have %d", errBadSharedObject, n, n+12, len(p))
	}
	so := &sharedObject{Name: string(p[:n])}
	p = p[n:]
	so.Version = binary.BigEndian.Uint32(p)
	so.Persistent = binary.BigEndian.Uint32(p[4:]) != 0
	p = p[12:] // version, flags, reserved
	for len(p) > 0 {
		if len(so.Events) == maxSOEvents {
			return nil, fmt.Errorf("%w: more than %d events", errBadSharedObject, maxSOEvents)
		}
		if len(p) < 5 {
			return nil, fmt.Errorf("%w: truncated event header", errBadSharedObject)
		}
		typ, size := p[0], binary.BigEndian.Uint32(p[1:])
		p = p[5:]
		if uint64(size) > uint64(len(p)) {
			return nil, fmt.Errorf("%w: event of %d bytes, %d left", errBadSharedObject, size, len(p))
		}
		so.Events = append(so.Events, soEvent{Type: typ, Data: p[:size]})
		p = p[size:]
	}
	return so, nil
}

// sharedObjectRefusal answers a shared object message with a clear refusal
// instead of dropping the connection, even when it does not parse.
func (s *Session) sharedObjectRefusal(m *message.Message) error {
	so, err := parseSharedObject(m)
	if err != nil {
		s.refused(slog.LevelInfo, "shared_object", "shared object message refused", "app", s.app, "err", err)
		return s.onStatus(0, errorInfo("SharedObject.NotSupported", "Remote shared objects are not supported by this server."))
	}
	types := make([]uint8, len(so.Events))
	for i, e := range so.Events {
		types[i] = e.Type
	}
	s.refused(slog.LevelInfo, "shared_object", "shared object refused", "app", s.app, "name", so.Name, "persistent", so.Persistent, "events", types)
	return s.onStatus(0, errorInfo("SharedObject.NotSupported",
		fmt.Sprintf("Remote shared object %q is not supported by this server.", so.Name), "details", so.Name))
}
