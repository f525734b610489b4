// Package events is the per-user event log every transport reads with its
// own cursor: RTMP and RTMFP connections push it as invokes, HTTP clients
// poll or long-poll it. Components write their own typed events to it
// (package call's call and presence events, package conference's room
// events) through the Event interface; the log and its readers need only
// an event's wire form, so a new publisher (WebRTC) needs no field here.
//
// Ownership: each Log has its own lock; it calls nothing while holding it.
package events

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
)

// Event is one typed event a component writes to a user's log.
type Event interface {
	// EventType is the type clients see: "incoming", "conf_joined".
	EventType() string
	// WireFields appends the event's fields as clients see them after
	// cursor, type and time, in their order on the wire (JSON and AMF
	// alike). Empty values may be appended: the encoders leave them out.
	WireFields(f []Field) []Field
}

// Field is one string field of an event on the wire.
type Field struct{ Key, Value string }

// Entry is an event as a log holds it: where it is in the log and when it
// happened.
type Entry struct {
	Cursor uint64 // position in the user's log, from 1, increasing by 1
	Time   time.Time
	Event  Event
}

// Type is the entry's event type ("" for an entry without an event).
func (e Entry) Type() string {
	if e.Event == nil {
		return ""
	}
	return e.Event.EventType()
}

// Fields are the entry's non-empty wire fields, in wire order.
func (e Entry) Fields() []Field {
	if e.Event == nil {
		return nil
	}
	all := e.Event.WireFields(make([]Field, 0, 16))
	out := all[:0]
	for _, f := range all {
		if f.Value != "" {
			out = append(out, f)
		}
	}
	return out
}

// MarshalJSON writes the entry as the HTTP API shows it (docs/PROTOCOL.md):
// {"cursor":N,"type":T,"time":RFC 3339, then the non-empty fields}.
func (e Entry) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"cursor":`)
	b.Write(strconv.AppendUint(nil, e.Cursor, 10))
	put := func(k string, v []byte) {
		b.WriteString(`,"`)
		b.WriteString(k) // keys are the publishers' constants, plain ASCII
		b.WriteString(`":`)
		b.Write(v)
	}
	typ, err := json.Marshal(e.Type())
	if err != nil {
		return nil, err
	}
	put("type", typ)
	t, err := e.Time.MarshalJSON()
	if err != nil {
		return nil, err
	}
	put("time", t)
	for _, f := range e.Fields() {
		v, err := json.Marshal(f.Value)
		if err != nil {
			return nil, err
		}
		put(f.Key, v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
