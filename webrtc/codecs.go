package webrtc

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/webrtc/plane"
)

// DefaultCodecs is the edge's codec preference when Options.Codecs is
// empty: Opus first (every browser has it; the best voice per bit), then
// the telephone codecs a SIP leg may already carry, so a player that
// offers only G.711 or G.722 gets its stream without transcoding.
var DefaultCodecs = []codec.ID{codec.Opus, codec.PCMU, codec.PCMA, codec.G722}

// rtpCodec is how the edge negotiates one codec: its SDP capability and
// the payload type it registers (static ones as RFC 3551 fixes them;
// Opus as browsers number it).
type rtpCodec struct {
	id  codec.ID
	cap webrtc.RTPCodecCapability
	pt  webrtc.PayloadType
}

// rtpCodecs are the codecs the edge speaks. Opus is always
// opus/48000/2 in SDP (RFC 7587), mono content is fine.
var rtpCodecs = []rtpCodec{
	{codec.Opus, webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}, 111},
	{codec.PCMU, webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000}, 0},
	{codec.PCMA, webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMA, ClockRate: 8000}, 8},
	{codec.G722, webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeG722, ClockRate: 8000}, 9},
}

// mimeTelephoneEvent is RFC 4733's MIME type.
const mimeTelephoneEvent = "audio/telephone-event"

// lookupRTPCodec is the edge's mapping of id, ok false for a codec the
// edge does not negotiate.
func lookupRTPCodec(id codec.ID) (rtpCodec, bool) {
	for _, c := range rtpCodecs {
		if c.id == id {
			return c, true
		}
	}
	return rtpCodec{}, false
}

// ParseCodecs reads a codec preference ("opus", "pcmu", "pcma", "g722";
// config webrtc.codecs): every name known to the edge, no repeats, at least one.
func ParseCodecs(names []string) ([]codec.ID, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("no codec named (want some of opus, pcmu, pcma, g722)")
	}
	out := make([]codec.ID, 0, len(names))
	for _, n := range names {
		id, ok := codec.ParseID(strings.ToLower(strings.TrimSpace(n)))
		if _, rtp := lookupRTPCodec(id); !ok || !rtp {
			return nil, fmt.Errorf("codec %q: the WebRTC edge speaks opus, pcmu, pcma and g722", n)
		}
		if slices.Contains(out, id) {
			return nil, fmt.Errorf("codec %q named twice", n)
		}
		out = append(out, id)
	}
	return out, nil
}

// offered is what an offer's audio sections propose, as the edge reads
// them: the codecs it knows, and the clock rates telephone-event is
// offered at.
type offered struct {
	codecs []codec.ID
	events []int // telephone-event clock rates
}

// maxRtpmaps bounds the a=rtpmap lines read per offer (Chromium sends
// about 10 per audio section).
const maxRtpmaps = 64

// readOffered collects the audio codecs of d's audio sections.
func readOffered(d *sdp.SessionDescription) offered {
	var o offered
	n := 0
	for _, m := range d.MediaDescriptions {
		if m.MediaName.Media != "audio" {
			continue
		}
		for _, a := range m.Attributes {
			if a.Key != "rtpmap" {
				continue
			}
			if n++; n > maxRtpmaps {
				return o
			}
			f, ok := plane.ParseRtpmap(a.Value)
			if !ok {
				continue
			}
			name, clock := f.Name, f.Clock
			if name == "telephone-event" {
				if !slices.Contains(o.events, clock) {
					o.events = append(o.events, clock)
				}
				continue
			}
			for _, c := range rtpCodecs {
				if strings.EqualFold("audio/"+name, c.cap.MimeType) && clock == int(c.cap.ClockRate) && !slices.Contains(o.codecs, c.id) {
					o.codecs = append(o.codecs, c.id)
				}
			}
		}
	}
	return o
}

// choose is the first codec of pref the offer has, ok false for none.
func (o offered) choose(pref []codec.ID) (codec.ID, bool) {
	for _, id := range pref {
		if slices.Contains(o.codecs, id) {
			return id, true
		}
	}
	return 0, false
}

// hasEvents reports whether telephone-event is offered at clock.
func (o offered) hasEvents(clock int) bool { return slices.Contains(o.events, clock) }
