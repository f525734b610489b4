package media

import "github.com/flashvox/flashvox/codec"

// AudioCodec is the codec of the last audio frame published on key: 0
// when the stream has none yet or does not exist. The WebRTC edge asks it
// to play a stream to a browser in its own codec when the browser offers
// that codec (no transcoder).
func (h *Hub) AudioCodec(key string) codec.ID {
	h.mu.Lock()
	s := h.streams[key]
	h.mu.Unlock()
	if s == nil {
		return 0
	}
	return codec.ID(s.audioCodec.Load())
}
