package session

import (
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

// flvSlab is a player's store of FLV audio tag bodies built from hub
// frames. The connection's write queue keeps a body until it is sent, so a
// body cannot be reused; carving them out of shared blocks costs one
// allocation per few hundred frames instead of one per frame. Owned by the
// player, under its mutex.
type flvSlab struct {
	buf []byte
	// The sound byte of the last frame, for the next of the same stream.
	last     codec.FLVAudio // Config cleared
	lastByte byte
	lastOK   bool
}

const flvSlabBlock = 16 << 10

// audioBody returns the FLV audio tag body of f (an audio frame), or false
// when FLV cannot carry its codec (G.722): such a frame is not sent.
func (s *flvSlab) audioBody(f *media.Frame) ([]byte, bool) {
	if f.Codec == 0 {
		return f.Payload, true // kept whole by audioFrame
	}
	n := codec.FLVAudioHeaderSize(f.Codec) + len(f.Payload)
	if cap(s.buf)-len(s.buf) < n {
		s.buf = make([]byte, 0, max(flvSlabBlock, n))
	}
	a := f.FLVAudio()
	key := a
	key.Config = false
	if !s.lastOK || key != s.last {
		sb, err := codec.FLVSoundByte(a)
		if err != nil {
			return nil, false
		}
		s.last, s.lastByte, s.lastOK = key, sb, true
	}
	start := len(s.buf)
	b := append(codec.AppendFLVAudioHeader(s.buf, s.lastByte, a), f.Payload...)
	s.buf = b // capacity enough for it: b shares s.buf's block
	return b[start:len(b):len(b)], true
}
