package siprtmp

import (
	"context"
	"fmt"
	"strings"

	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/events"
)

// push turns the user's call events into siprtmp callbacks, in log order,
// until ctx ends. Only siprtmp's callback names are ever invoked: a Flash
// client without the method would get an AsyncErrorEvent.
func (c *conn) push(ctx context.Context) {
	c.dev.Delivered(c.cursor)
	err := c.events.Follow(ctx, c.cursor, c.log, func(en events.Entry) error {
		e, ok := en.Event.(call.Event) // room events have no siprtmp callback
		if !ok {
			return nil
		}
		if n := c.translate(e); n != nil {
			if err := c.s.Notify(n.method, n.args...); err != nil {
				return fmt.Errorf("callback %s: %w", n.method, err)
			}
		}
		return nil
	}, c.dev.Delivered)
	if ctx.Err() == nil {
		c.log.Info("callback failed", "err", err)
	}
}

// translate moves the line's state for event e and returns the callback
// for it, if any. Events of calls this line does not carry (another device
// of the user placed them, or this line already ended them) are ignored.
func (c *conn) translate(e call.Event) *notice {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.Type == call.EvIncoming {
		if c.state != lineIdle {
			return nil
		}
		peer := Address{Scheme: "sip", User: e.From, Host: c.me.Host}
		c.state, c.id, c.peer, c.codecs = lineIncoming, e.Call, peer.String(), nil
		return &notice{"invited", []any{c.peer, c.me.String()}}
	}
	if c.state == lineIdle || e.Call != c.id {
		return nil
	}
	switch e.Type {
	case call.EvRinging:
		if c.state == lineOutgoing {
			return &notice{"ringing", []any{"180 Ringing"}}
		}
	case call.EvAccepted:
		switch {
		case c.state == lineOutgoing:
			c.state, c.pub, c.play = lineActive, e.Publish, e.Play
			return &notice{"accepted", negotiated(c.codecs)}
		case c.state == lineActive && e.Device == c.dev.ID:
			return &notice{"accepted", negotiated(c.codecs)}
		case c.state == lineIncoming: // another device of the user answered
			n := &notice{"cancelled", []any{c.peer, c.me.String()}}
			c.idleLocked()
			return n
		}
	case call.EvRejected, call.EvCanceled:
		var n *notice
		if c.state == lineIncoming {
			n = &notice{"cancelled", []any{c.peer, c.me.String()}}
		} else {
			n = &notice{"rejected", []any{sipReason(e.Reason)}}
		}
		c.idleLocked()
		return n
	case call.EvBye:
		c.idleLocked()
		return &notice{"byed", nil}
	}
	return nil
}

// sipReason writes a call end reason as the SIP status siprtmp reports.
func sipReason(r string) string {
	switch r {
	case call.ReasonBusy:
		return "486 Busy Here"
	case call.ReasonRejected:
		return "603 Decline"
	case call.ReasonOffline, call.ReasonGone:
		return "480 Temporarily Unavailable"
	case call.ReasonNoAnswer:
		return "408 Request Timeout"
	case call.ReasonCanceled:
		return "487 Request Terminated"
	case "shutdown":
		return "503 Service Unavailable"
	}
	// The SIP bridge reports a refused call as "sip CODE REASON".
	return strings.TrimPrefix(r, "sip ")
}

// negotiated is the (audioCodec, videoCodec) pair of the accepted callback
// when the client gave a codec list in invite or accept (none otherwise,
// as siprtmp does). The other party is a relay through the hub, which
// transcodes, so the client's first preference that Flash can send wins.
func negotiated(codecs []string) []any {
	if len(codecs) == 0 {
		return nil
	}
	var audio, video any
	for _, k := range codecs {
		switch k {
		case "flv":
			if audio == nil {
				audio = "default"
			}
			if video == nil {
				video = "default"
			}
		case "wideband", "narrowband", "ulaw", "alaw":
			if audio == nil {
				audio = "speex"
			}
		case "pcmu", "pcma":
			if audio == nil {
				audio = k
			}
		case "h264":
			if video == nil {
				video = "h264"
			}
		}
	}
	return []any{audio, video}
}
