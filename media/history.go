package media

import (
	"sync"
	"sync/atomic"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/codecs"
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
// So the hub decodes such codecs on the publisher's goroutine from the
// first frame on, whether or not anybody transcodes (libspeex: ~10 µs per
// 20 ms frame, 0.05 % of a core per Speex publisher), and while a
// transcoder reads the stream it hands the PCM to it on a copy of the frame
// (Frame.dec). The transcoders then decode nothing themselves: a stream
// read in several codecs is decoded once. Codecs whose decoders forget
// their start within a frame or two (Nellymoser's one-block overlap, G.711,
// G.722's adaptive quantizers) keep being decoded by the transcoder alone.

// needsHistory reports whether a decoder of id must see a stream from its
// first frame to decode it right.
func needsHistory(id codec.ID) bool { return id == codec.Speex }

// history is a publisher's decoder for needsHistory codecs. Its mutex
// guards everything: Write runs on the publisher's goroutine, close on
// whoever ends the publication.
type history struct {
	mu     sync.Mutex
	active atomic.Bool // a decoder is running: lets Write skip forget without the lock
	closed bool
	id     codec.ID
	rate   int
	dec    codec.Decoder
	pcm    []int16 // decode scratch
	// Copies of frames and their PCM are carved from shared blocks, as
	// frameSlab does for transcoded frames.
	frames  []Frame
	decs    []decoded
	samples []int16
}

// historyBlock is how many frames' worth of samples a PCM block holds.
const historyBlock = 64

// decode runs f (audio of id at rate, codec packet pkt) through the
// history decoder and, when attach is true, returns a copy of f carrying
// the PCM; otherwise f itself.
func (h *history) decode(f *Frame, id codec.ID, rate int, pkt []byte, attach bool) *Frame {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return f
	}
	if h.dec == nil || id != h.id || rate != h.rate {
		h.closeDecoderLocked()
		dec, err := codecs.NewDecoder(id, rate)
		if err != nil {
			return f
		}
		h.dec, h.id, h.rate = dec, id, rate
		h.active.Store(true)
	}
	var err error
	h.pcm, err = h.dec.Decode(h.pcm[:0], pkt)
	if err != nil || !attach {
		return f // a transcoder decodes a corrupt frame itself, and says so
	}
	if len(h.samples) < len(h.pcm) {
		h.samples = make([]int16, max(historyBlock*len(h.pcm), len(h.pcm)))
	}
	pcm := h.samples[:len(h.pcm):len(h.pcm)]
	h.samples = h.samples[len(h.pcm):]
	copy(pcm, h.pcm)
	if len(h.frames) == 0 {
		h.frames = make([]Frame, historyBlock)
	}
	if len(h.decs) == 0 {
		h.decs = make([]decoded, historyBlock)
	}
	d := &h.decs[0]
	h.decs = h.decs[1:]
	d.pcm = pcm
	c := &h.frames[0]
	h.frames = h.frames[1:]
	*c = *f
	c.dec = d
	return c
}

// forget drops the decoder: the stream left the codec, and a later return
// to it starts afresh.
func (h *history) forget() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closeDecoderLocked()
}

// close frees the decoder for good (the publication ended).
func (h *history) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	h.closeDecoderLocked()
}

func (h *history) closeDecoderLocked() {
	if h.dec != nil {
		closeCodec(h.dec)
		h.dec, h.id, h.rate = nil, 0, 0
		h.active.Store(false)
	}
}

// audio is Publisher.Write's step for an audio frame: it keeps the history
// decoder in step with the stream and returns the frame to fan out. attach
// is read only now, after Write loaded its subscriber list: a transcoder
// that is in that list counted itself in before it was added.
func (h *history) audio(f *Frame, transcoders *atomic.Int32) *Frame {
	id, rate, pkt := f.Codec, f.Rate, f.Payload
	if !needsHistory(id) {
		if h.active.Load() {
			h.forget()
		}
		return f
	}
	// A frame another stream's history already decoded (relayed from
	// there) keeps that PCM, but still moves this decoder on.
	return h.decode(f, id, rate, pkt, f.dec == nil && transcoders.Load() > 0)
}
