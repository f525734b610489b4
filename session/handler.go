package session

import (
	"context"
	"errors"
	"io"
	"net"

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
	s := New(c, opts)
	err := s.Serve(ctx)
	switch {
	case err == nil, errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed), errors.Is(err, rtmp.ErrClosed), ctx.Err() != nil:
		s.log.Debug("closed", "err", err)
	default:
		s.log.Info("closed", "err", err)
	}
}
