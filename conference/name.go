package conference

import "strings"

// TargetPrefix starts a dial target that names a room: "conf:ROOM".
const TargetPrefix = "conf:"

// ValidRoomName reports whether s may name a room: 1 to 64 ASCII letters,
// digits, '.', '_' or '-' (safe in URLs, SIP user parts and logs).
func ValidRoomName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// ParseTarget reads "conf:ROOM" and returns ROOM; ok is false for any
// other target or an invalid room name.
func ParseTarget(target string) (room string, ok bool) {
	room, ok = strings.CutPrefix(target, TargetPrefix)
	if !ok || !ValidRoomName(room) {
		return "", false
	}
	return room, true
}
