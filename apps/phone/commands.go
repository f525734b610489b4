package phone

import (
	"context"
	"fmt"

	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/conference"
	"github.com/flashvox/flashvox/events"
)

// Call serves the phone's NetConnection calls:
//
//	invite(to [, {peerId}])        -> {call}
//	accept(callId [, {peerId}])    -> {call, publish, play, mode, peerId, device}
//	reject(callId [, reason])      -> null
//	bye(callId)                    -> null (also hangup, cancel)
//	sendDTMF(callId, digits)       -> null
//	p2pFailed(callId)              -> null (a p2p call switches to relay)
func (c *conn) Call(_ context.Context, name string, args []any) (any, error) {
	switch name {
	case "invite":
		to, err := stringArg(args, 0, "to")
		if err != nil {
			return nil, err
		}
		id, err := c.calls.Invite(c.dev, to, peerArg(args, 1))
		if err != nil {
			return nil, err
		}
		return amf.NewObject("call", id), nil
	case "accept":
		id, err := stringArg(args, 0, "callId")
		if err != nil {
			return nil, err
		}
		e, err := c.calls.Accept(c.dev, id, peerArg(args, 1))
		if err != nil {
			return nil, err
		}
		return amf.NewObject("call", e.Call, "publish", e.Publish, "play", e.Play, "mode", e.Mode, "peerId", e.PeerID, "device", e.Device), nil
	case "reject":
		id, err := stringArg(args, 0, "callId")
		if err != nil {
			return nil, err
		}
		reason, _ := stringArg(args, 1, "reason")
		return nil, c.calls.Reject(c.dev, id, reason)
	case "bye", "hangup", "cancel":
		id, err := stringArg(args, 0, "callId")
		if err != nil {
			return nil, err
		}
		return nil, c.calls.Hangup(c.dev, id)
	case "p2pFailed":
		id, err := stringArg(args, 0, "callId")
		if err != nil {
			return nil, err
		}
		return nil, c.calls.P2PFailed(c.dev, id)
	case "sendDTMF":
		id, err := stringArg(args, 0, "callId")
		if err != nil {
			return nil, err
		}
		digits, err := stringArg(args, 1, "digits")
		if err != nil {
			return nil, err
		}
		return nil, c.calls.DTMF(c.dev, id, digits)
	}
	return c.conferenceCall(name, args)
}

func stringArg(args []any, i int, what string) (string, error) {
	if i < len(args) {
		if s, ok := args[i].(string); ok && s != "" {
			return s, nil
		}
	}
	return "", fmt.Errorf("argument %d (%s) must be a non-empty string", i+1, what)
}

// peerArg reads the optional options object {peerId} (an RTMFP peer id).
func peerArg(args []any, i int) string {
	if i < len(args) {
		if o, ok := args[i].(*amf.Object); ok {
			return o.GetString("peerId")
		}
	}
	return ""
}

// methods maps event types to the client methods the server invokes.
var methods = map[string]string{
	call.EvIncoming: "onIncomingCall",
	call.EvRinging:  "onRinging",
	call.EvAccepted: "onAccepted",
	call.EvRejected: "onRejected",
	call.EvCanceled: "onCancelled",
	call.EvBye:      "onBye",
	call.EvPresence: "onPresence",
	call.EvDTMF:     "onDTMF",
	call.EvMedia:    "onMedia",
	// Gateway calls only.
	call.EvEarlyMedia: "onEarlyMedia",
	call.EvHold:       "onHold",
	call.EvUnhold:     "onUnhold",
}

// push invokes the client's event methods, in log order, until ctx ends.
// Invokes carry transaction id 0: the server expects no answer.
func (c *conn) push(ctx context.Context) {
	c.dev.Delivered(c.cursor)
	err := c.events.Follow(ctx, c.cursor, c.log, func(e events.Entry) error {
		method, obj := c.invocation(e)
		if method == "" {
			return nil // for another kind of client: a web page's WebRTC signal (call.EvSignal)
		}
		return c.s.Notify(method, obj)
	}, c.dev.Delivered)
	if ctx.Err() == nil {
		c.log.Info("push failed", "err", err)
	}
}

// invocation maps an event to the method and its one argument. Another
// device of the callee that did not answer gets onCancelled with reason
// answered_elsewhere instead of onAccepted.
func (c *conn) invocation(en events.Entry) (string, *amf.Object) {
	switch e := en.Event.(type) {
	case conference.Event:
		return conferenceMethods[e.Type], EventObject(en)
	case call.Event:
		if e.Type == call.EvAccepted && e.To == c.dev.User && e.Device != c.dev.ID {
			en.Event = call.Event{Type: call.EvCanceled, Call: e.Call, From: e.From, To: e.To, Reason: call.ReasonAnsweredElsewhere, Device: e.Device}
		}
	}
	return methods[en.Type()], EventObject(en) // call and presence events
}

// EventObject is the AMF object of an event: its non-empty fields under
// their JSON names, time in milliseconds since 1970.
func EventObject(e events.Entry) *amf.Object {
	o := amf.NewObject("type", e.Type(), "cursor", float64(e.Cursor), "time", float64(e.Time.UnixMilli()))
	for _, f := range e.Fields() {
		o.Set(f.Key, f.Value)
	}
	return o
}
