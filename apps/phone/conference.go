package phone

import (
	"errors"
	"fmt"

	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/conference"
	"github.com/flashvox/flashvox/session"
)

// Conference methods, served when App.Conferences is set:
//
//	joinConference(room [, {pin, mode, codec}])  -> {room, member, mode, publish, play, moderator, members}
//	leaveConference([room])               -> null (every room of this connection without room)
//	muteConference(room, member, muted)   -> null (yourself, or anyone as a moderator)
//	kickConference(room, member)          -> null (moderators)
//	lockConference(room, locked)          -> null (moderators)
//	endConference(room)                   -> null (moderators)
//	inviteToConference(room, target)      -> null (moderators; a user or a number)
//	conferenceInfo(room)                  -> {name, mode, locked, members}
//
// Room events come as onConferenceJoined, onConferenceLeft, onConferenceMode,
// onConferenceMuted, onConferenceSpeaker, onConferenceLocked,
// onConferenceEnded and, to moderators, onConferenceInviteFailed (see
// docs/PROTOCOL.md).
func (c *conn) conferenceCall(name string, args []any) (any, error) {
	svc := c.conferences
	if svc == nil {
		return nil, session.ErrUnknownMethod
	}
	switch name {
	case "joinConference":
		return c.joinConference(svc, args)
	case "leaveConference":
		return nil, c.leaveConference(args)
	case "muteConference":
		room, member, err := roomMember(args)
		if err != nil {
			return nil, err
		}
		muted := true
		if len(args) > 2 {
			if b, ok := args[2].(bool); ok {
				muted = b
			}
		}
		return nil, svc.Mute(c.dev.User, room, member, muted)
	case "kickConference":
		room, member, err := roomMember(args)
		if err != nil {
			return nil, err
		}
		return nil, svc.Kick(c.dev.User, room, member)
	case "lockConference":
		room, err := stringArg(args, 0, "room")
		if err != nil {
			return nil, err
		}
		locked := true
		if len(args) > 1 {
			if b, ok := args[1].(bool); ok {
				locked = b
			}
		}
		return nil, svc.Lock(c.dev.User, room, locked)
	case "endConference":
		room, err := stringArg(args, 0, "room")
		if err != nil {
			return nil, err
		}
		return nil, svc.End(c.dev.User, room)
	case "inviteToConference":
		room, err := stringArg(args, 0, "room")
		if err != nil {
			return nil, err
		}
		target, err := stringArg(args, 1, "target")
		if err != nil {
			return nil, err
		}
		return nil, svc.Invite(c.dev.User, room, target)
	case "conferenceInfo":
		room, err := stringArg(args, 0, "room")
		if err != nil {
			return nil, err
		}
		info, err := svc.Room(room)
		if err != nil {
			return nil, err
		}
		return amf.NewObject("name", info.Name, "mode", string(info.Mode), "locked", info.Locked, "members", membersArray(info.Members)), nil
	}
	return nil, session.ErrUnknownMethod
}

// joinConference puts this connection into a room (joinConference).
func (c *conn) joinConference(svc *conference.Service, args []any) (any, error) {
	room, err := stringArg(args, 0, "room")
	if err != nil {
		return nil, err
	}
	if m := c.members[room]; m != nil {
		select {
		case <-m.Done():
		default:
			return nil, fmt.Errorf("already in room %q", room)
		}
	}
	o := conference.JoinOptions{User: c.dev.User, Notify: conference.LogNotifier(c.events),
		Addr: c.s.RemoteAddr(), Transport: c.dev.Kind} // PIN guesses are throttled per address
	if i := 1; i < len(args) {
		if obj, ok := args[i].(*amf.Object); ok {
			o.PIN, o.Mode = obj.GetString("pin"), conference.Mode(obj.GetString("mode"))
			if o.Codec, err = conference.ParseCodec(obj.GetString("codec")); err != nil {
				return nil, err
			}
		}
	}
	m, j, err := svc.Join(room, o)
	if err != nil {
		return nil, err
	}
	if c.members == nil {
		c.members = map[string]*conference.Member{}
	}
	c.members[room] = m
	return joinedObject(j), nil
}

// leaveConference takes this connection out of a room, or of every room
// without one (leaveConference).
func (c *conn) leaveConference(args []any) error {
	room, _ := stringArg(args, 0, "room")
	if room == "" {
		c.leaveConferences(false)
		return nil
	}
	m := c.members[room]
	if m == nil {
		return conference.ErrNotMember
	}
	delete(c.members, room)
	m.Leave()
	return nil
}

func roomMember(args []any) (string, string, error) {
	room, err := stringArg(args, 0, "room")
	if err != nil {
		return "", "", err
	}
	member, err := stringArg(args, 1, "member")
	return room, member, err
}

// leaveConferences takes this connection's members out of their rooms;
// gone says the connection went away.
func (c *conn) leaveConferences(gone bool) {
	for room, m := range c.members {
		delete(c.members, room)
		if gone {
			m.Gone()
		} else {
			m.Leave()
		}
	}
}

// conferenceStream maps a conference stream name to its hub key for this
// user, after the call streams refused it.
func (c *conn) conferenceStream(name string, publish bool, callErr error) (string, error) {
	if c.conferences == nil {
		return "", callErr
	}
	key, err := c.conferences.StreamKey(c.dev.User, name, publish)
	if errors.Is(err, conference.ErrStreamDenied) {
		return "", callErr
	}
	return key, err
}

// PlayEnds ends a conference play when the membership that grants it
// ends (left, kicked, room ended): the session stops the play at once.
func (c *conn) PlayEnds(name string) <-chan struct{} {
	if c.conferences == nil {
		return nil
	}
	return c.conferences.PlayEnds(c.dev.User, name)
}

// User is the connection's signed-in user (it may transcode).
func (c *conn) User() string { return c.dev.User }

func joinedObject(j conference.Joined) *amf.Object {
	return amf.NewObject("room", j.Room, "member", j.Member, "mode", string(j.Mode), "publish", j.Publish,
		"play", j.Play, "moderator", j.Moderator, "members", membersArray(j.Members))
}

func membersArray(ms []conference.MemberInfo) []any {
	out := make([]any, 0, len(ms))
	for _, m := range ms {
		o := amf.NewObject("id", m.ID, "user", m.User, "kind", m.Kind, "muted", m.Muted)
		if m.Play != "" {
			o.Set("play", m.Play)
		}
		out = append(out, o)
	}
	return out
}

// conferenceMethods maps room event types (conference.Event.Type) to the
// client methods the server invokes.
var conferenceMethods = map[string]string{
	conference.EvJoined:  "onConferenceJoined",
	conference.EvLeft:    "onConferenceLeft",
	conference.EvMode:    "onConferenceMode",
	conference.EvMuted:   "onConferenceMuted",
	conference.EvSpeaker: "onConferenceSpeaker",
	conference.EvLocked:  "onConferenceLocked",
	conference.EvEnded:   "onConferenceEnded",
	// Told to moderators only: an invitation failed after ringing began.
	conference.EvInviteFailed: "onConferenceInviteFailed",
	// Told to moderators only: the room's recording failed, or resumed.
	conference.EvRecordFailed:  "onConferenceRecordFailed",
	conference.EvRecordResumed: "onConferenceRecordResumed",
}
