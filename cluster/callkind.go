package cluster

import "github.com/flashvox/flashvox/call"

// Each node of a cross-node call records the other node's party by its
// transport as that node knows it (the caller's device kind in invite,
// the answering device's in accepted; call.KindSIP for a trunk's caller),
// in its call records and call listing, rather than as a SIP party.

// kindAnswerer is the caller's node's party of a call to a user
// (call.External), which records the kind of the device that answered.
type kindAnswerer interface {
	AnswerKind(kind string) (call.Event, error)
}

// answer answers x, the callee having answered on a device of kind there.
func answer(x party, kind string) (call.Event, error) {
	if a, ok := x.(kindAnswerer); ok {
		return a.AnswerKind(partyKind(kind))
	}
	return x.Answer()
}

// partyKind is the transport of the other node's party an invite or an
// accepted names, as this node records it: one of the kinds of a device,
// else (an older node that sends none, or anything else) a SIP party, as
// before kinds crossed.
func partyKind(kind string) string {
	switch kind {
	case call.KindRTMP, call.KindRTMPT, call.KindRTMFP, call.KindHTTP:
		return kind
	}
	return call.KindSIP
}
