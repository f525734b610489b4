package session

import (
	"sync"
	"sync/atomic"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/media"
)

// The FLV edge: publishers' audio messages are FLV audio tag bodies, the
// hub's audio frames bare codec packets; the mapping is here and nowhere
// else in the RTMP/RTMFP path.

// audioFrame fills f from an FLV audio tag body: the codec, rate and
// channels its header names, and the bare packet (sharing body). A body
// whose SoundFormat flashvox does not know is kept whole with Codec 0, so
// RTMP and RTMFP players still get it as it came.
func audioFrame(f *media.Frame, body []byte) {
	f.Kind = media.KindAudio
	a, pkt, err := codec.SplitFLVAudio(body)
	if err != nil {
		f.Payload = body
		return
	}
	f.Codec, f.Rate, f.Channels, f.Config, f.FLV, f.Payload = a.ID, a.Rate, a.Channels, a.Config, a.Hint, pkt
}

// isVideoConfig reports an AVC/HEVC sequence header (codec 7 or 12, packet
// type 0) or an enhanced-RTMP sequence start: late joiners need it.
func isVideoConfig(p []byte) bool {
	if len(p) < 2 {
		return false
	}
	if p[0]&0x80 != 0 { // enhanced RTMP: low nibble is the packet type
		return p[0]&0x0f == 0
	}
	id := p[0] & 0x0f
	return (id == 7 || id == 12) && p[1] == 0
}

// flvShare lets the players of one stream share the FLV audio tag body of
// each frame. The hub hands a frame to its receivers one after another on
// the publisher's goroutine, so the first player of a stream builds the
// body and the others find it: one small allocation per frame and stream,
// none per player (a relay's fan-out stays copy-free). Entries are counted
// by the players holding them and dropped with the last.
type flvShare struct {
	mu sync.Mutex
	m  map[string]*flvLast
}

// flvLast is the last body built for one subscription key.
type flvLast struct {
	refs int // guarded by flvShare.mu
	last atomic.Pointer[flvBody]
}

type flvBody struct {
	f    *media.Frame
	body []byte
}

func newFLVShare() *flvShare { return &flvShare{m: map[string]*flvLast{}} }

// get returns key's entry, counting one more player in.
func (s *flvShare) get(key string) *flvLast {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.m[key]
	if l == nil {
		l = &flvLast{}
		s.m[key] = l
	}
	l.refs++
	return l
}

// put counts a player of key out.
func (s *flvShare) put(key string, l *flvLast) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l.refs--; l.refs == 0 && s.m[key] == l {
		delete(s.m, key)
	}
}

// audioBody returns the FLV audio tag body of f (an audio frame), or false
// when FLV cannot carry its codec (G.722): such a frame is not sent.
func (l *flvLast) audioBody(f *media.Frame) ([]byte, bool) {
	if f.Codec == 0 {
		return f.Payload, true // kept whole by audioFrame
	}
	if b := l.last.Load(); b != nil && b.f == f {
		return b.body, true
	}
	body, err := codec.AppendFLVAudio(make([]byte, 0, codec.FLVAudioHeaderSize(f.Codec)+len(f.Payload)), f.FLVAudio(), f.Payload)
	if err != nil {
		return nil, false
	}
	l.last.Store(&flvBody{f: f, body: body})
	return body, true
}

// playSub is a player's subscription together with its share of FLV bodies.
type playSub struct {
	sub   interface{ Close() }
	share *flvShare
	key   string
	flv   *flvLast
	once  sync.Once
}

// Close unsubscribes and lets go of the shared bodies.
func (x *playSub) Close() {
	x.once.Do(func() {
		x.sub.Close()
		x.share.put(x.key, x.flv)
	})
}
