package session

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"

	"github.com/flashvox/flashvox/internal/ratelog"
	"github.com/flashvox/flashvox/rtmfp"
	"github.com/flashvox/flashvox/rtmp"
)

// Handler serves every RTMP connection of a server with a Session.
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

// ServeRTMP runs one connection's session and logs once why it ended.
func (h *Handler) ServeRTMP(ctx context.Context, c *rtmp.Conn) {
	opts := h.options()
	if opts.Logger != nil {
		opts.Logger = opts.Logger.With("remote", c.RemoteAddr().String())
	}
	h.serve(ctx, c, opts)
}

// ServeRTMFP runs one RTMFP session's NetConnection: the same commands over
// the TC layer's messages.
func (h *Handler) ServeRTMFP(ctx context.Context, c *rtmfp.Conn) {
	opts := h.options()
	if opts.Logger != nil {
		opts.Logger = opts.Logger.With("remote", c.RemoteAddr().String(), "transport", "rtmfp")
	}
	h.serve(ctx, c, opts)
}

func (h *Handler) serve(ctx context.Context, t Transport, opts Options) {
	s := New(t, opts)
	err := s.Serve(ctx)
	switch {
	case err == nil, errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed), errors.Is(err, rtmp.ErrClosed),
		errors.Is(err, rtmfp.ErrClosed), ctx.Err() != nil,
		// Logged, rate-limited, where they happen: a flood of them is
		// not a flood of lines.
		errors.Is(err, ErrConnectRejected), rtmp.LimitCause(err) != "":
		s.log.Debug("closed", "err", err)
	default:
		s.log.Info("closed", "err", err)
	}
}
