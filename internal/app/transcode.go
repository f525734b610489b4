package app

import (
	"log/slog"

	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/media/transcode"
)

// newTranscoder makes the one transcoding service of hub, shared by RTMP
// players' ?codec= and the SIP legs so that rtmp.max_transcoders and the
// transcoder metrics count them all. It must exist before anything
// publishes: it follows every stream from its first frame.
func newTranscoder(hub *media.Hub, logger *slog.Logger) *transcode.Service {
	s := transcode.New(hub, logger.With("component", "transcode"))
	s.InputQueue = transcode.LiveQueueFrames // live voice: drop old audio, not delay it
	return s
}
