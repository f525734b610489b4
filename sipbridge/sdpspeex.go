package sipbridge

import (
	"bytes"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	dmedia "github.com/emiago/diago/media"
	"github.com/emiago/sipgo/sip"
)

// codecSpeexWB is Speex wideband as RFC 5574 names it; 97 is a dynamic
// payload type (RFC 3551 6). diago matches codecs by every field, name
// case included, so an answer must echo "speex" as we write it.
var codecSpeexWB = dmedia.Codec{Name: "speex", PayloadType: 97, SampleRate: 16000, SampleDur: 20 * time.Millisecond, NumChannels: 1}

// speexOfferCodecs are offerCodecs plus speex/16000, offered last: a far
// end that prefers it gets the Flash user's Speex untouched, the others
// keep G.711 or G.722 as before.
var speexOfferCodecs = append(append(append([]dmedia.Codec{}, offerCodecs[:3]...), codecSpeexWB), dmedia.CodecTelephoneEvent8000)

// mediaSession is what diago makes for a dialog from its transport (RTP
// bound on the listen host, the public address in the SDP), with codecs.
func (s *diagoStack) mediaSession(codecs []dmedia.Codec) (*dmedia.MediaSession, error) {
	host, _, _ := net.SplitHostPort(s.addr)
	ip := net.ParseIP(host)
	if ip == nil || ip.IsUnspecified() {
		var err error
		if ip, _, err = sip.ResolveInterfacesIP("ip4", nil); err != nil {
			return nil, fmt.Errorf("sip: media address: %w", err)
		}
	}
	ms := &dmedia.MediaSession{Codecs: slices.Clone(codecs), Laddr: net.UDPAddr{IP: ip}, Mode: "sendrecv"}
	if pub := net.ParseIP(s.public); pub != nil {
		ms.ExternalIP = pub
	}
	if err := ms.Init(); err != nil {
		return nil, fmt.Errorf("sip: rtp session: %w", err)
	}
	return ms, nil
}

// AnswerSpeex answers as Answer does, also accepting speex/16000 when the
// INVITE offers it (under the caller's payload type and spelling, which
// diago's exact codec match needs). The caller's order decides.
func (o *diagoOffer) AnswerSpeex() (channel, error) {
	sc, ok := offeredSpeex(o.d.InviteRequest.Body())
	if !ok {
		return o.answer(nil)
	}
	return o.answer(append(append(append([]dmedia.Codec{}, offerCodecs[:3]...), sc), offerCodecs[3:]...))
}

// offeredSpeex finds speex/16000 among the formats of an SDP offer's first
// audio stream (RFC 4566 m= and a=rtpmap lines; RFC 5574 names it
// "speex", compared without case as RFC 4855 3 says). The codec keeps the
// offer's payload type, spelling and channels, as diago's exact match
// between offer and answer needs.
func offeredSpeex(sdp []byte) (dmedia.Codec, bool) {
	var formats []string
	inAudio := false
	for line := range bytes.Lines(sdp) {
		l := string(bytes.TrimSpace(line))
		if m, ok := strings.CutPrefix(l, "m="); ok {
			if inAudio {
				break // only the first audio stream
			}
			f := strings.Fields(m)
			if inAudio = len(f) > 3 && f[0] == "audio"; inAudio {
				formats = f[3:]
			}
			continue
		}
		a, ok := strings.CutPrefix(l, "a=rtpmap:")
		if !inAudio || !ok {
			continue
		}
		pt, enc, ok := strings.Cut(a, " ")
		if !ok || !contains(formats, pt) {
			continue
		}
		parts := strings.Split(strings.TrimSpace(enc), "/")
		if len(parts) < 2 || len(parts) > 3 || !strings.EqualFold(parts[0], "speex") || parts[1] != "16000" {
			continue
		}
		n, err := strconv.ParseUint(pt, 10, 8)
		if err != nil || n < 96 || n > 127 { // dynamic payload types (RFC 3551 6)
			continue
		}
		c := dmedia.Codec{Name: parts[0], PayloadType: uint8(n), SampleRate: 16000, SampleDur: 20 * time.Millisecond, NumChannels: 1}
		if len(parts) == 3 {
			if parts[2] != "1" {
				continue // Speex is mono (RFC 5574 3.3)
			}
		}
		return c, true
	}
	return dmedia.Codec{}, false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
