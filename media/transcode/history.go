package transcode

import (
	"sync"
	"sync/atomic"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/codecs"
	"github.com/flashvox/flashvox/media"
)

// Decoder history for late transcoders.
//
// A Speex decoder started mid-stream (a transcoder that starts when its
// first player asks, long after the publisher began) has zero excitation
// and filter memory where the encoder has history. Speex has no key frames
// and nothing in the bitstream pulls a late decoder back: the encoder picks
// its pitch gains by analysis by synthesis for its own state, and on a
// steady tone those gains leave the late decoder's error undamped or
// growing. A −9 dBFS tone over a microphone floor 50 dB down came out of a
// late transcoder at −4 dBFS with a comb of components 8 dB under the tone
// (a user measured −3 dBFS and 806/719 Hz); a pure sine grows into a clipped
// tone. A decoder that ran from the stream's first frame is exact.
//
// So the Service taps every published stream (media.Hub.Tap, told of each
// publication by WatchPublications before its first frame) and decodes
// such codecs on the publisher's goroutine from the first frame on, whether
// or not anybody transcodes (libspeex: ~10 µs per 20 ms frame, 0.05 % of a
// core per Speex publisher). While transcoders read the stream it keeps the
// PCM of the latest frames, which they look up (history.pcm) instead of
// decoding: a stream read in several codecs is decoded once. A tap gets
// each frame before every subscriber, so the PCM of a frame is there
// before a transcoder's queue holds it. Codecs whose decoders forget their
// start within a frame or two (Nellymoser's one-block overlap, G.711,
// G.722's adaptive quantizers) are decoded by the transcoders alone.

// needsHistory reports whether a decoder of id must see a stream from its
// first frame to decode it right.
func needsHistory(id codec.ID) bool { return id == codec.Speex }

// historyKeep is how many frames' PCM a history keeps for its
// transcoders: 5 s of 20 ms frames; a transcoder further behind decodes
// itself.
const historyKeep = 256

// historyBlock is how many frames' worth of samples a PCM block holds.
const historyBlock = 64

// history follows one stream for the Service. Receive runs on the
// publisher's goroutine (and the hub's, for events); pcm on transcoders'.
// mu guards the decoder and live, keptMu what is kept: a transcoder's
// lookup must not wait for a decode. refs is written under Service.mu.
type history struct {
	s   *Service
	key string
	sub *media.Subscriber // the tap, set once under Service.mu
	// refs counts the transcoders reading the stream: only while there are
	// any is PCM kept.
	refs atomic.Int32

	mu      sync.Mutex
	live    bool // published now
	id      codec.ID
	rate    int
	dec     codec.Decoder
	scratch []int16
	samples []int16 // a block the kept PCM is carved from

	keptMu sync.Mutex
	kept   map[*media.Frame][]int16
	order  [historyKeep]*media.Frame // kept's keys, a ring, oldest at next
	next   int
}

// published is the hub's watcher: every new publication gets its history
// tap before its first frame.
func (s *Service) published(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.historyLocked(key)
}

// historyLocked returns key's history, tapping the stream if it has none.
// Called with s.mu held.
func (s *Service) historyLocked(key string) *history {
	h := s.history[key]
	if h == nil {
		h = &history{s: s, key: key, kept: map[*media.Frame][]int16{}}
		h.live = s.hub.Published(key)
		s.history[key] = h
		h.sub = s.hub.Tap(key, h)
	}
	return h
}

// trackLocked counts a transcoder of key in. Called with s.mu held.
func (s *Service) trackLocked(key string) *history {
	h := s.historyLocked(key)
	h.refs.Add(1)
	return h
}

// untrackLocked counts a transcoder of key out. Called with s.mu held.
func (s *Service) untrackLocked(key string) {
	if h := s.history[key]; h != nil {
		h.refs.Add(-1)
		s.dropIdleLocked(h)
	}
}

// forget drops h once its stream is unpublished and nobody transcodes it.
func (s *Service) forget(h *history) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropIdleLocked(h)
}

func (s *Service) dropIdleLocked(h *history) {
	h.mu.Lock()
	idle := !h.live && h.refs.Load() == 0
	h.mu.Unlock()
	if !idle || s.history[h.key] != h {
		return
	}
	delete(s.history, h.key)
	h.sub.Close()
	h.mu.Lock()
	h.closeDecoderLocked()
	h.mu.Unlock()
	h.keptMu.Lock()
	clear(h.kept)
	clear(h.order[:])
	h.keptMu.Unlock()
}

// Receive keeps the decoder in step with the stream.
func (h *history) Receive(f *media.Frame) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch f.Kind {
	case media.KindPublish:
		h.live = true
		h.closeDecoderLocked() // a new publisher: a new stream
	case media.KindUnpublish:
		h.live = false
		h.closeDecoderLocked()
		go h.s.forget(h) // not here: the hub holds its lock while it tells us
	case media.KindAudio:
		if !needsHistory(f.Codec) {
			h.closeDecoderLocked() // a later return to the codec starts afresh
			return
		}
		h.decodeLocked(f)
	}
}

// decodeLocked runs f through the decoder and keeps its PCM while
// transcoders read the stream.
func (h *history) decodeLocked(f *media.Frame) {
	if h.dec == nil || f.Codec != h.id || f.Rate != h.rate {
		h.closeDecoderLocked()
		dec, err := codecs.NewDecoder(f.Codec, f.Rate)
		if err != nil {
			return
		}
		h.dec, h.id, h.rate = dec, f.Codec, f.Rate
	}
	var err error
	h.scratch, err = h.dec.Decode(h.scratch[:0], f.Payload)
	if err != nil || h.refs.Load() == 0 {
		return // a transcoder decodes a corrupt frame itself, and says so
	}
	n := len(h.scratch)
	if len(h.samples) < n {
		h.samples = make([]int16, max(historyBlock*n, n))
	}
	pcm := h.samples[:n:n]
	h.samples = h.samples[n:]
	copy(pcm, h.scratch)
	h.keptMu.Lock()
	defer h.keptMu.Unlock()
	if old := h.order[h.next]; old != nil {
		delete(h.kept, old)
	}
	h.order[h.next] = f
	h.next = (h.next + 1) % historyKeep
	h.kept[f] = pcm
}

// pcm returns the PCM of f decoded from the stream's first frame on, or
// nil when the history has none (not a history codec, or too long ago).
func (h *history) pcm(f *media.Frame) []int16 {
	if !needsHistory(f.Codec) {
		return nil
	}
	h.keptMu.Lock()
	defer h.keptMu.Unlock()
	return h.kept[f]
}

// closeDecoderLocked frees the decoder. The PCM kept stays: transcoders
// may still be reading the frames it belongs to.
func (h *history) closeDecoderLocked() {
	if h.dec != nil {
		closeCodec(h.dec)
		h.dec, h.id, h.rate = nil, 0, 0
	}
}
