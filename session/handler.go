package session

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"

	"github.com/flashvox/flashvox/internal/ratelog"
)

// Handler serves the connections of every transport with Sessions. It
// imports no transport: the composition root adapts each one's connections
// (rtmp.Conn, rtmfp.Conn) to Serve with that transport's handler func.
type Handler struct {
	Options Options

	once sync.Once // sets Options.Refusals if nil: one for all sessions
}

// options returns Options with the Refusals every session shares.
func (h *Handler) options() Options {
	h.once.Do(func() {
		if h.Options.Refusals == nil {
			h.Options.Refusals = ratelog.New(ratelog.Options{Logger: h.Options.Logger})
		}
		if h.Options.flv == nil {
			h.Options.flv = newFLVShare()
		}
	})
	return h.Options
}

// Serve runs one connection's session and logs once why it ended. attrs
// follow the client's address in the session's log (RTMFP adds
// "transport", "rtmfp"; an RTMP conn's transport is in the server's log).
func (h *Handler) Serve(ctx context.Context, t Transport, attrs ...any) {
	opts := h.options()
	if opts.Logger != nil {
		opts.Logger = opts.Logger.With(append([]any{"remote", t.RemoteAddr().String()}, attrs...)...)
	}
	s := New(t, opts)
	err := s.Serve(ctx)
	switch {
	case err == nil, errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed), routineEnd(t, err), ctx.Err() != nil,
		// Logged, rate-limited, where they happen: a flood of them is
		// not a flood of lines.
		errors.Is(err, ErrConnectRejected):
		s.log.Debug("closed", "err", err)
	default:
		s.log.Info("closed", "err", err)
	}
}

// RoutineEnder is a Transport that tells which of the errors its
// connection ends with are routine: its own "closed", or a limit its server
// already logs (rate-limited). Those end a session with a debug line only.
type RoutineEnder interface {
	RoutineEnd(err error) bool
}

func routineEnd(t Transport, err error) bool {
	r, ok := t.(RoutineEnder)
	return ok && r.RoutineEnd(err)
}
