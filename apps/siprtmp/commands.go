package siprtmp

import (
	"context"
	"errors"
	"strings"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/session"
)

// Call serves siprtmp's NetConnection calls. Like siprtmp.py every one
// answers _result(null); outcomes arrive as callbacks, and a command that
// does not fit the line's state is ignored.
//
//	invite(dest[, codec...])   dest: "Name" <sip:user@domain>, user@domain, user, tel:number
//	accept([codec...])         answer the ringing incoming call
//	reject([reason])           "486 Busy Here" refuses as busy; default "603 Decline"
//	bye()                      cancel the outgoing call or end the active one
//	sendDTMF(digits)           to the other party of the active call
//	hold(bool)                 accepted and ignored (relay media has no hold)
func (c *conn) Call(_ context.Context, name string, args []any) (any, error) {
	var n *notice
	switch name {
	case "invite":
		dest, _ := arg(args, 0)
		n = c.invite(dest, codecArgs(args[min(1, len(args)):]))
	case "accept":
		n = c.accept(codecArgs(args))
	case "reject":
		reason, _ := arg(args, 0)
		c.reject(reason)
	case "bye":
		c.bye()
	case "sendDTMF":
		digits, _ := arg(args, 0)
		c.dtmf(digits)
	case "hold":
		c.log.Info("hold is not supported; ignored")
	default:
		return nil, session.ErrUnknownMethod
	}
	if n != nil {
		c.notify(*n)
	}
	return nil, nil
}

// notice is one callback to invoke on the client.
type notice struct {
	method string
	args   []any
}

func (c *conn) notify(n notice) {
	if err := c.s.Notify(n.method, n.args...); err != nil {
		c.log.Info("callback failed", "method", n.method, "err", err)
	}
}

func arg(args []any, i int) (string, bool) {
	if i < len(args) {
		s, ok := args[i].(string)
		return s, ok
	}
	return "", false
}

// codecArgs keeps the string arguments: siprtmp's codec preference list.
func codecArgs(args []any) []string {
	var out []string
	for _, a := range args {
		if s, ok := a.(string); ok && s != "" && len(out) < 16 {
			out = append(out, strings.ToLower(s))
		}
	}
	return out
}

// invite places a call; a refusal is the rejected callback, as in siprtmp.
func (c *conn) invite(dest string, codecs []string) *notice {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != lineIdle {
		return &notice{"rejected", []any{"Already in an active or pending call"}}
	}
	a, err := ParseAddress(dest)
	if err != nil {
		return &notice{"rejected", []any{"400 Bad Request: " + err.Error()}}
	}
	to := Target(a, c.ours)
	// c.mu is held across Invite so that the push goroutine handles the
	// call's first events (ringing, or rejected offline) after c.id is set.
	id, err := c.calls.Invite(c.dev, to, "")
	if err != nil {
		c.log.Info("invite refused", "to", to, "err", err)
		return &notice{"rejected", []any{inviteRefusal(err)}}
	}
	c.state, c.id, c.peer, c.codecs = lineOutgoing, id, a.String(), codecs
	c.log.Info("invite", "call", id, "to", to)
	return nil
}

func inviteRefusal(err error) string {
	switch {
	case errors.Is(err, call.ErrSelfCall):
		return "486 Busy Here"
	case errors.Is(err, call.ErrInCall):
		return "Already in an active or pending call"
	case errors.Is(err, account.ErrBadUser):
		return "404 Not Found"
	}
	return "403 Forbidden: " + err.Error()
}

// accept answers the ringing incoming call; if that fails (answered
// elsewhere, gone) the client gets byed, as siprtmp does.
func (c *conn) accept(codecs []string) *notice {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != lineIncoming {
		return nil
	}
	e, err := c.calls.Accept(c.dev, c.id, "")
	if err != nil {
		c.log.Info("accept failed", "call", c.id, "err", err)
		c.idleLocked()
		return &notice{"byed", nil}
	}
	c.state, c.pub, c.play, c.codecs = lineActive, e.Publish, e.Play, codecs
	return nil // the accepted callback follows from the event log
}

func (c *conn) reject(reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != lineIncoming {
		return
	}
	r := call.ReasonRejected
	if strings.HasPrefix(reason, "486") || strings.Contains(strings.ToLower(reason), "busy") {
		r = call.ReasonBusy
	}
	id := c.id
	c.idleLocked() // our own end: the log's event for it is not called back
	if err := c.calls.Reject(c.dev, id, r); err != nil {
		c.log.Info("reject failed", "call", id, "err", err)
	}
}

func (c *conn) bye() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != lineOutgoing && c.state != lineActive {
		return
	}
	id := c.id
	c.idleLocked()
	if err := c.calls.Hangup(c.dev, id); err != nil {
		c.log.Info("bye failed", "call", id, "err", err)
	}
}

func (c *conn) dtmf(digits string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != lineActive {
		return
	}
	if err := c.calls.DTMF(c.dev, c.id, digits); err != nil {
		c.log.Info("sendDTMF failed", "call", c.id, "err", err)
	}
}

// idleLocked frees the line; events of the old call are ignored from now.
func (c *conn) idleLocked() {
	c.state, c.id, c.peer, c.codecs, c.pub, c.play = lineIdle, "", "", nil, "", ""
}
