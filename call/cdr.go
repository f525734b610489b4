package call

import "time"

// Call detail records. The service stamps each call's start, answer and
// the parties' transports, and hands a Record of every call that ends
// (hang-up, cancel, rejection, no answer, a party gone, shutdown) to
// Options.Records. This file and the lines marked "CDR" in state.go,
// external.go and service.go are the whole hook.

// Record is one ended call as a call detail record keeps it.
type Record struct {
	Call, From, To string
	// FromKind and ToKind are the parties' device kinds (KindRTMP,
	// KindHTTP, KindSIP, …; KindSIP for the gateway's side); ToKind is ""
	// when the call was never answered.
	FromKind, ToKind string
	// Mode carried the media at the end (ModeRelay, ModeP2P; "" if never
	// answered); FellBack: answered p2p, ended relayed.
	Mode     string
	FellBack bool
	// Started is the invitation, Answered the answer (zero if none).
	Started, Answered, Ended time.Time
	// Event is how it ended (EvBye, EvCanceled, EvRejected), Reason and By
	// as that event says.
	Event, Reason, By string
	// Streams are the hub keys the caller and the callee published to
	// (their media through the server, so a recorder can meter them); ""
	// when none were issued (a p2p call, or never answered).
	Streams [2]string
}

// Recorder receives the Record of every call that ends. It is called with
// the service's lock held: it must return at once (queue the record) and
// not call the service.
type Recorder interface {
	CallEnded(Record)
}

// cdrStamps are what a Record needs that the call does not otherwise keep.
type cdrStamps struct {
	started, answered time.Time
	fromKind, toKind  string
}

// recordLocked hands c's Record to the Recorder, if any.
func (s *Service) recordLocked(c *Call, typ, reason, by string) {
	if s.opts.Records == nil {
		return
	}
	var streams [2]string
	if c.names[0] != "" {
		streams = [2]string{s.opts.StreamPrefix + c.names[0], s.opts.StreamPrefix + c.names[1]}
	}
	s.opts.Records.CallEnded(Record{Streams: streams, Call: c.ID, From: c.From, To: c.To, FromKind: c.cdr.fromKind, ToKind: c.cdr.toKind,
		Mode: c.mode, FellBack: c.fellBack, Started: c.cdr.started, Answered: c.cdr.answered, Ended: s.opts.Now(),
		Event: typ, Reason: reason, By: by})
}
