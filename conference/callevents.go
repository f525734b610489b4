package conference

import "github.com/flashvox/flashvox/call"

// CallEventPrefix starts the type of a room event in a user's call log:
// "conf_joined", "conf_left", "conf_mode", "conf_muted", "conf_speaker",
// "conf_locked", "conf_ended", "conf_invite_failed".
const CallEventPrefix = "conf_"

// CallEvent is e as an entry of a user's call log, so that room events
// reach RTMP phones (pushed) and HTTP clients (polled) on the path call
// events already take. Muted and Locked travel in Status.
func CallEvent(e Event) call.Event {
	ce := call.Event{Type: CallEventPrefix + e.Type, Time: e.Time, Room: e.Room, Member: e.Member, User: e.User,
		Play: e.Play, Reason: e.Reason, By: e.By}
	switch e.Type {
	case EvMuted:
		ce.Status = "unmuted"
		if e.Muted {
			ce.Status = "muted"
		}
	case EvLocked:
		ce.Status = "unlocked"
		if e.Locked {
			ce.Status = "locked"
		}
	}
	return ce
}

// LogNotifier writes a member's events to a user's call log.
func LogNotifier(l *call.Log) Notifier {
	return func(e Event) { l.Append(CallEvent(e)) }
}
