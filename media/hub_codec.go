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

// DeclareAudioCodec tells the hub the codec this publisher's audio will be
// in before its first frame, when the publisher knows it in advance (a SIP
// leg's codec, agreed in the SDP at call set-up): AudioCodec answers it at
// once, so a WebRTC player that arrives before the first frame is given
// the stream in its own codec and passes it through. A frame in another
// codec replaces it, as it would a previous frame's; call it before
// the first Write.
func (p *Publisher) DeclareAudioCodec(id codec.ID) {
	if id == 0 || p.closed.Load() {
		return
	}
	p.s.audioCodec.Store(uint32(id))
}
