package call

import (
	"github.com/flashvox/flashvox/events"
	"github.com/flashvox/flashvox/presence"
)

// Event types. Every call transition is one event with the call id, written
// to the log of each party it concerns.
const (
	EvIncoming = "incoming"          // callee: a call rings (from, call)
	EvRinging  = "ringing"           // caller: the callee's devices ring
	EvAccepted = "accepted"          // both: answered; publish/play names for this party
	EvRejected = "rejected"          // both: the callee refused or could not take it (reason)
	EvCanceled = "cancelled"         // both: stopped ringing unanswered (reason)
	EvBye      = "bye"               // both: an established call ended (reason, by)
	EvPresence = presence.EvPresence // watchers: a user's presence changed (presence.Event)
	EvDTMF     = "dtmf"              // the other party: digits sent in the call
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

// Presence statuses (package presence's).
const (
	Online  = presence.Online
	Busy    = presence.Busy
	Offline = presence.Offline
)

// ModeRelay: both parties publish to and play from the server (see also
// ModeP2P).
const ModeRelay = "relay"

// Event is one call event: an entry of a user's event log
// (events.Event), and what a gateway's Leg is told. Fields that do not
// apply to the type are empty. The log adds the cursor and the time.
type Event struct {
	Type   string
	Call   string
	From   string // the caller
	To     string // the callee
	Reason string
	By     string // who ended the call (bye)
	// Accepted: the names this party publishes and plays, the media mode,
	// the other party's RTMFP peer id (if it reported one) and the device
	// that answered. Mode is also in media events (the new mode) and in
	// the bye of an answered call (the mode at its end).
	Publish string
	Play    string
	Mode    string
	PeerID  string
	Device  string
	// Kind: accepted as told to a gateway's Leg (never to a user): the
	// answering device's kind (KindRTMP...), for a gateway that carries
	// the call on to another server's records.
	Kind string
	// DTMF.
	Digits string
	// Signal: a web page's WebRTC offer, answer or candidate for the
	// other party (JSON, signal.go).
	Signal string
}

// EventType is e's type (events.Event).
func (e Event) EventType() string { return e.Type }

// WireFields appends e's fields in the order clients see them
// (events.Event; docs/PROTOCOL.md).
func (e Event) WireFields(f []events.Field) []events.Field {
	return append(f, events.Field{Key: "call", Value: e.Call}, events.Field{Key: "from", Value: e.From},
		events.Field{Key: "to", Value: e.To}, events.Field{Key: "reason", Value: e.Reason}, events.Field{Key: "by", Value: e.By},
		events.Field{Key: "publish", Value: e.Publish}, events.Field{Key: "play", Value: e.Play},
		events.Field{Key: "mode", Value: e.Mode}, events.Field{Key: "peerId", Value: e.PeerID},
		events.Field{Key: "device", Value: e.Device}, events.Field{Key: "digits", Value: e.Digits},
		events.Field{Key: "signal", Value: e.Signal})
}
