package conference

import "time"

// Membership records. The service hands a MemberRecord to
// Options.Records when a member joins and when its membership ends (left,
// kicked, gone, the room ended, shutdown); this file and the lines marked
// "record" in room.go are the whole hook.

// MemberRecord is one membership as a record keeps it.
type MemberRecord struct {
	Room, Member, User string
	// Kind is the member's (KindWeb, KindSIP, KindCall); Transport what
	// carried it (JoinOptions.Transport, else Kind).
	Kind, Transport string
	// Left is zero in MemberJoined.
	Joined, Left time.Time
	// Reason is why it ended (ReasonLeft, ReasonKicked, ReasonGone,
	// ReasonEnded, ReasonShutdown); "" in MemberJoined.
	Reason string
	// Publish is the hub key the member publishes to (so a recorder can
	// meter what it sends).
	Publish string
}

// Recorder receives memberships as they begin and end. It is called with
// the service's and the room's locks held: it must return at once (queue
// the record) and not call the Service or the hub.
type Recorder interface {
	MemberJoined(MemberRecord)
	MemberLeft(MemberRecord)
}

func (m *Member) record(reason string, left time.Time) MemberRecord {
	return MemberRecord{Room: m.room.name, Member: m.ID, User: m.User, Kind: m.Kind, Transport: m.transport, Joined: m.joined, Left: left,
		Reason: reason, Publish: m.PublishKey()}
}
