package sipbridge

import (
	"fmt"
	"net"
	"slices"
	"time"

	dmedia "github.com/emiago/diago/media"
	"github.com/emiago/sipgo/sip"

	"github.com/flashvox/flashvox/codec"
)

// codecSpeexWB is Speex wideband as RFC 5574 names it; 97 is a dynamic
// payload type (RFC 3551 6). diago matches codecs by every field, name
// case included, so an answer must echo "speex" as we write it.
var codecSpeexWB = dmedia.Codec{Name: "speex", PayloadType: 97, SampleRate: 16000, SampleDur: 20 * time.Millisecond, NumChannels: 1}

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

// AnswerWith answers with one codec: the first of pref (passThrough
// first, when not 0) that the INVITE offers, under the offer's payload
// type and spelling (diago matches codecs field by field), with the
// offer's telephone-event. An offer with none of them gets 488.
func (o *diagoOffer) AnswerWith(pref []codec.ID, passThrough codec.ID) (channel, error) {
	body := o.d.InviteRequest.Body()
	if !sdpSafe(body) {
		_ = o.d.Respond(488, "Not Acceptable Here", nil)
		return nil, fmt.Errorf("%w: %w", &StatusError{Code: 488, Reason: "Not Acceptable Here"}, errUnsafeSDP)
	}
	list, _, ok := answerList(sdpCodecs(body), pref, passThrough)
	if !ok {
		_ = o.d.Respond(488, "Not Acceptable Here", nil)
		return nil, fmt.Errorf("%w: no common audio codec", &StatusError{Code: 488, Reason: "Not Acceptable Here"})
	}
	return o.answer(list)
}

// Chooses is AnswerWith's codec, answered nothing.
func (o *diagoOffer) Chooses(pref []codec.ID, passThrough codec.ID) codec.ID {
	body := o.d.InviteRequest.Body()
	if !sdpSafe(body) {
		return 0
	}
	_, id, _ := answerList(sdpCodecs(body), pref, passThrough)
	return id
}

// Offered are our codecs among the INVITE's, in its order.
func (o *diagoOffer) Offered() []codec.ID { return offeredIDs(sdpCodecs(o.d.InviteRequest.Body())) }
