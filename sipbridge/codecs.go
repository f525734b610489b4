package sipbridge

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	dmedia "github.com/emiago/diago/media"
	dsdp "github.com/emiago/diago/media/sdp"

	"github.com/flashvox/flashvox/codec"
)

// Codec order. Offers list the audio codecs best first:
// wideband (Opus, speex/16000, G.722) before narrowband (G.711), so a far end
// that takes the first codec it supports ends up wideband when it can.
// Answers pick one codec by our order among those offered (RFC 3264 6.1
// recommends the offer's order "unless there is a specific reason": the
// quality of the call and pass-through are ours), and answer with that
// codec alone so both directions use it. A leg bridged to a leg that
// already has a codec prefers that codec (legCodecs): phone ↔ phone and
// phone ↔ trunk calls then pass the audio through the hub undecoded.

// DefaultCodecs is the offer and answer order when Options.Codecs is
// empty: wideband first. Opus leads in a build with libopus (cgo): a
// browser's Opus then reaches an Opus phone undecoded; without libopus
// an Opus leg could not be transcoded, so it is not offered (opusBuilt).
var DefaultCodecs = defaultCodecs(opusBuilt)

func defaultCodecs(opus bool) []codec.ID {
	ids := []codec.ID{codec.Speex, codec.G722, codec.PCMU, codec.PCMA}
	if opus {
		ids = append([]codec.ID{codec.Opus}, ids...)
	}
	return ids
}

// CodecNames are the names sip.codecs accepts, in DefaultCodecs order.
var CodecNames = map[string]codec.ID{"opus": codec.Opus, "speex/16000": codec.Speex, "g722": codec.G722, "pcmu": codec.PCMU, "pcma": codec.PCMA}

// CodecName is the sip.codecs spelling of id.
func CodecName(id codec.ID) string {
	if id == codec.Speex {
		return "speex/16000"
	}
	return id.String()
}

// ParseCodecs reads a codec order ("opus", "speex/16000", "g722", "pcmu",
// "pcma", any case); each name may appear once.
func ParseCodecs(names []string) ([]codec.ID, error) {
	out := make([]codec.ID, 0, len(names))
	for i, n := range names {
		id, ok := CodecNames[strings.ToLower(strings.TrimSpace(n))]
		switch {
		case !ok:
			return nil, fmt.Errorf("[%d]: unknown codec %q (known: opus, speex/16000, g722, pcmu, pcma)", i, n)
		case slices.Contains(out, id):
			return nil, fmt.Errorf("[%d]: %q is listed twice", i, n)
		}
		out = append(out, id)
	}
	return out, nil
}

// rtpCodecs are the SDP codecs we offer for each of our codec ids (RFC
// 3551 static payload types; speex/16000 at the dynamic 97, RFC 5574;
// Opus as RFC 7587 names it, opus/48000/2 whatever the content's
// channels, at 96: the one dynamic payload type diago writes an Opus
// rtpmap and fmtp for, see diagoWrites).
var rtpCodecs = map[codec.ID]dmedia.Codec{
	codec.Opus:  dmedia.CodecAudioOpus,
	codec.Speex: codecSpeexWB,
	codec.G722:  {Name: "G722", PayloadType: 9, SampleRate: 8000, SampleDur: 20 * time.Millisecond, NumChannels: 1},
	codec.PCMU:  dmedia.CodecAudioUlaw,
	codec.PCMA:  dmedia.CodecAudioAlaw,
}

// orderCodecs is pref with the codecs of first (in pref's order) moved to
// the front: what the other leg offered, so that a codec both legs have
// is what this leg picks.
func orderCodecs(pref, first []codec.ID) []codec.ID {
	if len(first) == 0 {
		return pref
	}
	out := make([]codec.ID, 0, len(pref))
	for _, id := range pref {
		if slices.Contains(first, id) {
			out = append(out, id)
		}
	}
	for _, id := range pref {
		if !slices.Contains(first, id) {
			out = append(out, id)
		}
	}
	return out
}

// offerList is the SDP codec list of an offer in the order ids, plus
// telephone-event.
func offerList(ids []codec.ID) []dmedia.Codec {
	out := make([]dmedia.Codec, 0, len(ids)+1)
	for _, id := range ids {
		if c, ok := rtpCodecs[id]; ok {
			out = append(out, c)
		}
	}
	return append(out, dmedia.CodecTelephoneEvent8000)
}

// codecOf maps an SDP codec to ours (0: not one we speak). Speex must be
// wideband (Flash's) on a dynamic payload type.
func codecOf(c dmedia.Codec) codec.ID {
	switch strings.ToUpper(c.Name) {
	case "PCMU":
		if c.SampleRate == 8000 {
			return codec.PCMU
		}
	case "PCMA":
		if c.SampleRate == 8000 {
			return codec.PCMA
		}
	case "G722":
		if c.SampleRate == 8000 {
			return codec.G722
		}
	case "SPEEX":
		if c.SampleRate == 16000 && dynamicPT(c.PayloadType) && c.NumChannels == 1 {
			return codec.Speex
		}
	case "OPUS":
		// RFC 7587 6.1: always 48000/2; "opus/48000" (one channel, as
		// some old phones write it) is the same codec.
		if c.SampleRate == 48000 && dynamicPT(c.PayloadType) && c.NumChannels <= 2 {
			return codec.Opus
		}
	}
	return 0
}

func dynamicPT(pt uint8) bool { return pt >= 96 && pt <= 127 }

// diagoWrites reports whether diago v0.31.0 writes c's rtpmap as c says.
// It writes fixed lines for payload types 96 (opus/48000/2 with
// "a=fmtp:96 useinbandfec=0") and 101 (telephone-event/8000) whatever
// codec an offer put there, so answering, say, telephone-event at 96
// would tell the peer Opus: such a codec is not answered.
func diagoWrites(c dmedia.Codec) bool {
	switch c.PayloadType {
	case dmedia.CodecAudioOpus.PayloadType:
		return strings.EqualFold(c.Name, "opus") && c.SampleRate == 48000
	case dmedia.CodecTelephoneEvent8000.PayloadType:
		return strings.EqualFold(c.Name, "telephone-event") && c.SampleRate == 8000
	}
	return true
}

// sdpCodecs reads the first audio stream's codecs of an SDP body the way
// diago does (so that the answer's codecs equal the offer's field by
// field, as diago's match needs), in the offer's order.
func sdpCodecs(body []byte) []dmedia.Codec {
	if !sdpSafe(body) { // diago's parser would panic (sdpguard.go)
		return nil
	}
	sd := dsdp.SessionDescription{}
	if err := dsdp.Unmarshal(body, &sd); err != nil {
		return nil
	}
	md, err := sd.MediaDescription("audio")
	if err != nil {
		return nil
	}
	list := make([]dmedia.Codec, len(md.Formats))
	n, _ := dmedia.CodecsFromSDPRead(md.Formats, sd.Values("a"), list)
	return list[:n]
}

// offeredIDs are our codecs among an offer's, in the offer's order.
func offeredIDs(list []dmedia.Codec) []codec.ID {
	var out []codec.ID
	for _, c := range list {
		if id := codecOf(c); id != 0 && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// answerList chooses the answer to an offer: the first codec of pref
// (after passThrough, when the offer has it) that the offer lists, as the
// offer writes it, and the offer's telephone-event/8000. ok is false when
// the offer has none of pref.
func answerList(offer []dmedia.Codec, pref []codec.ID, passThrough codec.ID) (list []dmedia.Codec, chosen codec.ID, ok bool) {
	order := pref
	if passThrough != 0 {
		order = orderCodecs(pref, []codec.ID{passThrough})
	}
	for _, id := range order {
		for _, c := range offer {
			if codecOf(c) == id && diagoWrites(c) {
				list, chosen, ok = []dmedia.Codec{c}, id, true
				break
			}
		}
		if ok {
			break
		}
	}
	if !ok {
		return nil, 0, false
	}
	for _, c := range offer {
		if strings.EqualFold(c.Name, "telephone-event") && c.SampleRate == 8000 && diagoWrites(c) {
			list = append(list, c)
			break
		}
	}
	return list, chosen, true
}

// legCodecs is what the bridge knows of the legs of calls that have two
// (phone ↔ phone, phone ↔ trunk, trunk ↔ phone): the codec a leg
// answered with, by call id, and the codecs a calling phone offered, by
// the calling user (its call id does not exist before the call service
// has rung the other leg). The other leg reads them to pick the same
// codec: pass-through.
type legCodecs struct {
	mu       sync.Mutex
	answered map[string]codec.ID   // call id → codec of the leg answered first
	offered  map[string][]codec.ID // calling user → codecs its phone offered
}

func (l *legCodecs) setAnswered(id string, c codec.ID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.answered == nil {
		l.answered = map[string]codec.ID{}
	}
	l.answered[id] = c
}

func (l *legCodecs) answeredCodec(id string) codec.ID {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.answered[id]
}

func (l *legCodecs) forget(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.answered, id)
}

// setOffered records what user's phone offered; the returned func forgets
// it (if it is still this offer).
func (l *legCodecs) setOffered(user string, ids []codec.ID) func() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.offered == nil {
		l.offered = map[string][]codec.ID{}
	}
	l.offered[user] = ids
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if cur, ok := l.offered[user]; ok && slices.Equal(cur, ids) {
			delete(l.offered, user)
		}
	}
}

func (l *legCodecs) offeredBy(user string) []codec.ID {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.offered[user]
}
