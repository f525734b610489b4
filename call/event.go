package call

import "time"

// Event types. Every call transition is one event with the call id, written
// to the log of each party it concerns.
const (
	EvIncoming = "incoming"  // callee: a call rings (from, call)
	EvRinging  = "ringing"   // caller: the callee's devices ring
	EvAccepted = "accepted"  // both: answered; publish/play names for this party
	EvRejected = "rejected"  // both: the callee refused or could not take it (reason)
	EvCanceled = "cancelled" // both: stopped ringing unanswered (reason)
	EvBye      = "bye"       // both: an established call ended (reason, by)
	EvPresence = "presence"  // watchers: a user's presence changed (user, status)
	EvDTMF     = "dtmf"      // the other party: digits sent in the call
	// EvEarlyMedia: caller of a gateway call: the far end plays audio
	// before answering (SIP 183 with SDP); play is the name to play. The
	// call is still ringing.
	EvEarlyMedia = "early_media"
	// EvHold, EvUnhold: a gateway's party put the call on hold (reason
	// sendonly or inactive: it hears nothing) or took it off hold.
	EvHold   = "hold"
	EvUnhold = "unhold"
)

// Reasons carried by rejected, cancelled and bye events.
const (
	ReasonRejected          = "rejected"           // the callee declined
	ReasonBusy              = "busy"               // the callee is in another call
	ReasonOffline           = "offline"            // the callee has no connected device
	ReasonCanceled          = "cancelled"          // the caller hung up before an answer
	ReasonNoAnswer          = "no_answer"          // nobody answered within the ring timeout
	ReasonHangup            = "hangup"             // a party hung up (by names who)
	ReasonGone              = "gone"               // a party's device disconnected (by names who)
	ReasonAnsweredElsewhere = "answered_elsewhere" // RTMP only: another device of the callee answered
)

// Presence statuses.
const (
	Online  = "online"
	Busy    = "busy"
	Offline = "offline"
)

// ModeRelay: both parties publish to and play from the server (see also
// ModeP2P).
const ModeRelay = "relay"

// Event is one entry of a user's event log. Fields that do not apply to the
// type are empty.
type Event struct {
	Cursor uint64    `json:"cursor"` // position in the user's log, from 1, increasing by 1
	Type   string    `json:"type"`
	Time   time.Time `json:"time"`
	Call   string    `json:"call,omitempty"`
	From   string    `json:"from,omitempty"` // the caller
	To     string    `json:"to,omitempty"`   // the callee
	Reason string    `json:"reason,omitempty"`
	By     string    `json:"by,omitempty"` // who ended the call (bye)
	// Accepted: the names this party publishes and plays, the media mode,
	// the other party's RTMFP peer id (if it reported one) and the device
	// that answered. Mode is also in media events (the new mode) and in
	// the bye of an answered call (the mode at its end).
	Publish string `json:"publish,omitempty"`
	Play    string `json:"play,omitempty"`
	Mode    string `json:"mode,omitempty"`
	PeerID  string `json:"peerId,omitempty"`
	Device  string `json:"device,omitempty"`
	// Presence.
	User   string `json:"user,omitempty"`
	Status string `json:"status,omitempty"`
	// DTMF.
	Digits string `json:"digits,omitempty"`
	// Conference events (types conf_*, package conference): the room and
	// the member concerned.
	Room   string `json:"room,omitempty"`
	Member string `json:"member,omitempty"`
}
