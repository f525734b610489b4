package presence

import "github.com/flashvox/flashvox/events"

// EvPresence is the type of presence events in users' logs.
const EvPresence = "presence"

// Statuses of a user.
const (
	Online  = "online"
	Busy    = "busy"
	Offline = "offline"
)

// Event tells a user that another user's presence changed.
type Event struct {
	User   string
	Status string
}

// EventType is "presence" (events.Event).
func (Event) EventType() string { return EvPresence }

// WireFields appends user and status (events.Event; docs/PROTOCOL.md).
func (e Event) WireFields(f []events.Field) []events.Field {
	return append(f, events.Field{Key: "user", Value: e.User}, events.Field{Key: "status", Value: e.Status})
}
