package media

import (
	"sort"
	"strings"

	"github.com/flashvox/flashvox/codec"
)

// StreamInfo is one stream as the operator's dashboard lists it.
type StreamInfo struct {
	Key       string
	Published bool
	// Codec is the codec of its last audio frame (0: none yet, or unknown).
	Codec codec.ID
	// Players are its subscribers, those of its derived (transcoded)
	// streams included; taps (transcoders' history) are not players.
	Players int
}

// Streams lists every stream that has a publisher or a player, by key;
// derived streams count as players of their source and are not listed.
func (h *Hub) Streams() []StreamInfo {
	h.mu.Lock()
	byKey := make(map[string]*StreamInfo, len(h.streams))
	for key, s := range h.streams {
		src, _, derived := strings.Cut(key, string(DerivedSep))
		si := byKey[src]
		if si == nil {
			si = &StreamInfo{Key: src}
			byKey[src] = si
		}
		for _, sub := range *s.subs.Load() {
			if !sub.tap {
				si.Players++
			}
		}
		s.mu.Lock()
		published := s.pub != nil
		follows := published && s.pub.followsSource
		s.mu.Unlock()
		if derived {
			// A derived stream's publisher (a transcoder) is itself a
			// subscriber of the source, not a player; another node's
			// variant relayed here is not.
			if follows {
				si.Players--
			}
			continue
		}
		si.Published = published
		si.Codec = codec.ID(s.audioCodec.Load())
	}
	h.mu.Unlock()
	out := make([]StreamInfo, 0, len(byKey))
	for _, si := range byKey {
		if si.Published || si.Players > 0 {
			out = append(out, *si)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}
