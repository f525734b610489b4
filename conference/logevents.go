package conference

import "github.com/flashvox/flashvox/events"

// LogTypePrefix starts the type of a room event in a user's event log:
// "conf_joined", "conf_left", "conf_mode", "conf_muted", "conf_speaker",
// "conf_locked", "conf_ended", "conf_invite_failed", "conf_record_failed",
// "conf_record_resumed" (docs/PROTOCOL.md).
const LogTypePrefix = "conf_"

// EventType is e's type in a user's event log (events.Event), so that room
// events reach RTMP phones (pushed) and HTTP clients (polled) on the path
// call events take.
func (e Event) EventType() string { return LogTypePrefix + e.Type }

// WireFields appends e's fields in the order clients see them
// (events.Event). Muted and Locked travel as status.
func (e Event) WireFields(f []events.Field) []events.Field {
	status := ""
	switch e.Type {
	case EvMuted:
		status = "unmuted"
		if e.Muted {
			status = "muted"
		}
	case EvLocked:
		status = "unlocked"
		if e.Locked {
			status = "locked"
		}
	}
	return append(f, events.Field{Key: "reason", Value: e.Reason}, events.Field{Key: "by", Value: e.By},
		events.Field{Key: "play", Value: e.Play}, events.Field{Key: "user", Value: e.User},
		events.Field{Key: "status", Value: status}, events.Field{Key: "room", Value: e.Room},
		events.Field{Key: "member", Value: e.Member})
}

// LogNotifier writes a member's events to a user's event log.
func LogNotifier(l *events.Log) Notifier {
	return func(e Event) { l.Append(e.Time, e) }
}
