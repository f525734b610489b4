package app

import (
	"context"

	"github.com/flashvox/flashvox/rtmfp"
	"github.com/flashvox/flashvox/rtmp"
	"github.com/flashvox/flashvox/session"
)

// The transports' adapters: session serves any message connection and
// imports no transport, so the composition root hands it each one's.

// rtmpSessions serves every RTMP connection (RTMP, RTMPE, RTMPS, RTMPT)
// with a session of h.
func rtmpSessions(h *session.Handler) rtmp.Handler {
	return rtmp.HandlerFunc(func(ctx context.Context, c *rtmp.Conn) { h.Serve(ctx, c) })
}

// rtmfpSessions serves every RTMFP session's NetConnection with a session
// of h: the same commands over the TC layer's messages.
func rtmfpSessions(h *session.Handler) rtmfp.Handler {
	return rtmfp.HandlerFunc(func(ctx context.Context, c *rtmfp.Conn) { h.Serve(ctx, c, "transport", "rtmfp") })
}
