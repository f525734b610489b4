package session

import (
	"context"
	"errors"
	"io"
	"net"

	"github.com/flashvox/flashvox/rtmfp"
	"github.com/flashvox/flashvox/rtmp"
)

// Handler serves every RTMP connection of a server with a Session.
type Handler struct {
	Options Options
}

// ServeRTMP runs one connection's session and logs once why it ended.
func (h *Handler) ServeRTMP(ctx context.Context, c *rtmp.Conn) {
	opts := h.Options
	if opts.Logger != nil {
		opts.Logger = opts.Logger.With("remote", c.RemoteAddr().String())
	}
	h.serve(ctx, c, opts)
}

// ServeRTMFP runs one RTMFP session's NetConnection: the same commands over
// the TC layer's messages.
func (h *Handler) ServeRTMFP(ctx context.Context, c *rtmfp.Conn) {
	opts := h.Options
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
		errors.Is(err, rtmfp.ErrClosed), ctx.Err() != nil:
		s.log.Debug("closed", "err", err)
	default:
		s.log.Info("closed", "err", err)
	}
}
