package conference

import (
	"slices"
	"strings"

	"github.com/flashvox/flashvox/codec"
)

// joinCodecs are the codecs a client may ask to hear its mix in, by name
// (JoinOptions.Codec from the HTTP API and the phone app): the ones FLV
// carries, so that any RTMP player plays the mix as it is.
var joinCodecs = []codec.ID{codec.Speex, codec.Nellymoser, codec.PCMU, codec.PCMA}

// ParseCodec reads the codec a join asks for: speex, nellymoser, pcmu or
// pcma (any case), or opus for a WebRTC client (the web page plays its
// mix over WHEP in Opus without a transcoder; a build without libopus
// falls back to the room's codec and the WHEP edge transcodes); "" is 0,
// the room's default.
func ParseCodec(name string) (codec.ID, error) {
	if name == "" {
		return 0, nil
	}
	id, ok := codec.ParseID(strings.ToLower(name))
	if !ok || !(slices.Contains(joinCodecs, id) || id == codec.Opus) {
		return 0, ErrBadCodec
	}
	return id, nil
}

// mixCodec reports whether a mix may be encoded in id: the join codecs,
// Opus (WebRTC members), and G.722 for callers of the Go API (a SIP leg).
func mixCodec(id codec.ID) bool {
	return slices.Contains(joinCodecs, id) || id == codec.G722 || id == codec.Opus
}

// checkCodec validates a join's Codec and Rate (0 = the codec's rate;
// Nellymoser also at 8000 Hz).
func checkCodec(id codec.ID, rate int) error {
	if id == 0 {
		if rate != 0 {
			return ErrBadCodec
		}
		return nil
	}
	in, ok := codec.Lookup(id)
	switch {
	case !ok || !mixCodec(id):
		return ErrBadCodec
	case rate == 0 || rate == in.SampleRate:
		return nil
	case id == codec.Nellymoser && rate == 8000:
		return nil
	}
	return ErrBadCodec
}
