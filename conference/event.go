package conference

import "time"

// Event types told to members.
const (
	EvJoined  = "joined"  // a member joined (Member, User; relay: Play is its stream)
	EvLeft    = "left"    // a member left (Member, User, Reason); to the member itself too
	EvMode    = "mode"    // the room became mixed: Play is the mix this member plays now
	EvMuted   = "muted"   // a member was muted or unmuted (Member, Muted, By)
	EvSpeaker = "speaker" // the active speaker changed (Member, User; "" = nobody talks)
	EvLocked  = "locked"  // the room was locked or unlocked (Locked, By)
	EvEnded   = "ended"   // the room ended (Reason, By); members are out
	// EvInviteFailed: an invitation failed after the ringing began (User:
	// the target as invited, Reason, By: the inviter); told to the room's
	// moderators and the inviter. An answered invitation is EvJoined.
	EvInviteFailed = "invite_failed"
	// EvMoving goes between nodes only, never to a client: the room's
	// node stopped holding it (it lost the room's lease) and the member's
	// node is to move the member to the room's next node (handover.go).
	EvMoving = "moving"
)

// Reasons of left and ended events.
const (
	ReasonLeft     = "left"     // the member left
	ReasonKicked   = "kicked"   // a moderator removed it
	ReasonGone     = "gone"     // its connection went away
	ReasonEnded    = "ended"    // a moderator ended the room
	ReasonShutdown = "shutdown" // the server is stopping
	// ReasonLeaseLost: the room's node lost its lease on the room in the
	// cluster's store (docs/CLUSTER.md "Conferences") and stopped holding
	// it, and the member could not follow the room to its next node
	// within Options.RehomeFor (handover.go).
	ReasonLeaseLost = "lease_lost"
)

// Reasons of invite_failed events besides the call's own (call.Reason*:
// rejected, busy, no_answer, ...) and a SIP status ("sip 486 Busy Here").
const (
	ReasonRoomFull = "room_full" // the target answered but the room was full
	ReasonFailed   = "failed"    // the target answered but its audio could not be connected
)

// Event is one room event as a member sees it. Fields that do not apply to
// the type are zero.
type Event struct {
	Type   string
	Time   time.Time
	Room   string
	Member string // the member concerned (its id)
	User   string // that member's name
	Play   string // joined (relay): the stream to play; mode: the mix to play
	Reason string
	By     string // who muted, kicked, locked, ended or invited
	Muted  bool
	Locked bool
}

// Notifier receives a member's events, in order, on the goroutine that
// causes them (a joiner's, the mixer's). It must not block and must not
// call the Service: appending to an event log is the intended use.
type Notifier func(Event)
