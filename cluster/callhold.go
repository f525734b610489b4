package cluster

// Hold across nodes. A SIP party can hold a call (a re-INVITE with
// a=sendonly or a=inactive) and resume it; a user cannot, and a
// registered SIP phone's hold is not told to the other user even on one
// node (the call service has no hold for devices). So the one cross-node
// call whose hold the other party hears is a trunk's call to a user on
// another node (RemoteCall): its caller's node sends hold and unhold, and
// the user's node tells its user (call.External.Hold), as the SIP bridge
// does on one node. Early media
// does not cross: a user's call to a number is dialed through a trunk by
// the caller's own node, so the trunk's 183 never arrives on another node.

// Hold reasons as call.EvHold carries them: what the SIP party's SDP said.
const (
	holdSendOnly = "sendonly"
	holdInactive = "inactive"
)

// Hold tells the called user that the caller put the call on hold (held,
// reason sendonly or inactive) or resumed it. Before the answer or after
// the end it does nothing; NATS keeps a sender's messages in order, so
// the user sees holds and resumes in the order the caller made them.
func (r *RemoteCall) Hold(held bool, reason string) {
	r.mu.Lock()
	up := r.answered && !r.ended
	r.mu.Unlock()
	if !up {
		return
	}
	m := callMsg{Op: "unhold"}
	if held {
		m = callMsg{Op: "hold", Reason: reason}
	}
	r.cs.send(r.xc, m)
}

// holder is the callee's node's party of a call from a SIP party: it
// tells its user of a hold (call.External).
type holder interface {
	Hold(held bool, reason string) error
}

// held tells the local user of call xc that its caller on xc's node held
// or resumed it. Only the callee's node of a call whose caller is a SIP
// party listens (onMsg already checked that the sender is xc's other
// node); a hold needs a reason the SDP can give and an unhold none, the
// rest is dropped.
func (cs *calls) held(xc *xcall, x party, msg callMsg) {
	h, ok := x.(holder)
	if xc.owner || !xc.sip || !ok {
		return
	}
	hold := msg.Op == "hold"
	switch {
	case hold && msg.Reason != holdSendOnly && msg.Reason != holdInactive:
		return
	case !hold && msg.Reason != "":
		return
	}
	if err := h.Hold(hold, msg.Reason); err != nil {
		cs.c.log.Debug("cluster call: hold not told", "call", xc.id, "err", err)
	}
}
