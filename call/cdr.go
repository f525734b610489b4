package call

import (
	"fmt"
	"strings"
	"time"
)

// Call detail records. The service stamps each call's start, answer and
// the parties' transports, and hands a Record of every call that ends
// (hang-up, cancel, rejection, no answer, a party gone, shutdown) to
// Options.Records. This file and the lines marked "CDR" in state.go,
// external.go and service.go are the whole hook.

// Record is one ended call as a call detail record keeps it.
type Record struct {
	Call, From, To string
	// FromKind and ToKind are the parties' transports: what carried the
	// party's media (TransportWebRTC for a web page that published or
	// played over WHIP/WHEP or talked to the other page directly), else
	// its device's kind (KindRTMP, KindRTMPT, KindRTMFP, KindHTTP,
	// KindSIP for the gateway's side); ToKind is "" when the call was
	// never answered.
	FromKind, ToKind string
	// Mode carried the media at the end (ModeRelay, ModeP2P; "" if never
	// answered); FellBack: answered p2p, ended relayed.
	Mode     string
	FellBack bool
	// Started is the invitation, Answered the answer (zero if none).
	Started, Answered, Ended time.Time
	// Event is how it ended (EvBye, EvCanceled, EvRejected), Reason and By
	// as that event says.
	Event, Reason, By string
	// P2PCodec is the audio codec two pages negotiated for a call that
	// stayed p2p (the first codec of the SDP answer the server passed,
	// SetP2PCodec); "" otherwise (RTMFP p2p: the server sees no codec).
	P2PCodec string
	// Streams are the hub keys the caller and the callee published to
	// (their media through the server, so a recorder can meter them); ""
	// when none were issued (a p2p call, or never answered).
	Streams [2]string
}

// Recorder receives the Record of every call that ends. It is called with
// the service's lock held: it must return at once (queue the record) and
// not call the service.
type Recorder interface {
	CallEnded(Record)
}

// TransportWebRTC is a party's transport when its media went over WebRTC
// (a web page: WHIP/WHEP through the server, or direct to the other page).
const TransportWebRTC = "webrtc"

// AnswerRecorder is a Recorder that is also told when a call is answered,
// with the hub keys its caller and callee publish to (a call recorder
// starts there). Same rules as CallEnded: the service's lock is held, it
// returns at once and does not call the service.
type AnswerRecorder interface {
	CallAnswered(id string, streams [2]string)
}

// answeredLocked tells an AnswerRecorder that c was answered.
func (s *Service) answeredLocked(c *Call) {
	if a, ok := s.opts.Records.(AnswerRecorder); ok && c.names[0] != "" {
		a.CallAnswered(c.ID, [2]string{s.opts.StreamPrefix + c.names[0], s.opts.StreamPrefix + c.names[1]})
	}
}

// cdrStamps are what a Record needs that the call does not otherwise keep.
type cdrStamps struct {
	started, answered time.Time
	fromKind, toKind  string
	// p2pCodec is what the pages' SDP answer chose (SetP2PCodec).
	p2pCodec string
	// via is what carried party i's media (caller 0, callee 1) when not
	// its signalling device (MediaVia); "" otherwise.
	via [2]string
}

// MediaVia notes that user's media for the call whose issued stream is
// stream goes over transport (a web page's WHIP publish or WHEP play of
// its own call's name): the call's record names that transport for the
// party rather than its signalling device's kind. Anything but a party's
// own issued name is ignored.
func (s *Service) MediaVia(user, stream string, publish bool, transport string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.streams[stream]
	if g == nil || (publish && g.publisher != user) || (!publish && g.player != user) {
		return
	}
	if user == g.call.From {
		g.call.cdr.via[0] = transport
	} else {
		g.call.cdr.via[1] = transport
	}
}

// maxCodecName bounds a codec name a page reports through its SDP.
const maxCodecName = 16

// SetP2PCodec notes the audio codec of a direct call between two pages,
// as the SDP answer d's page sent through Signal names it (the web layer
// parses it): the call's record names it for both parties, since the
// server never sees that media. Only a party of an established p2p call
// between two pages may set it; a name that is not 1-16 of [a-z0-9-] is
// refused.
func (s *Service) SetP2PCodec(d *Device, id, codec string) error {
	if codec == "" || len(codec) > maxCodecName || strings.Trim(codec, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
		return fmt.Errorf("%w: codec name %q", ErrBadSignal, codec)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.activePartyCall(d, id)
	if err != nil {
		return err
	}
	if c.mode != ModeP2P || c.callerPeer != PeerWebRTC || c.calleePeer != PeerWebRTC {
		return fmt.Errorf("%w: the call is not a direct call between two pages", ErrState)
	}
	c.cdr.p2pCodec = codec
	return nil
}

// transports are the parties' transports as the record names them: a
// page pair in p2p mode talks WebRTC directly; else what MediaVia noted,
// else the device's kind.
func (c *Call) transports() (from, to string) {
	from, to = c.cdr.fromKind, c.cdr.toKind
	if c.mode == ModeP2P && c.callerPeer == PeerWebRTC && c.calleePeer == PeerWebRTC {
		return TransportWebRTC, TransportWebRTC
	}
	if v := c.cdr.via[0]; v != "" {
		from = v
	}
	if v := c.cdr.via[1]; v != "" && to != "" {
		to = v
	}
	return from, to
}

// recordLocked hands c's Record to the Recorder, if any.
func (s *Service) recordLocked(c *Call, typ, reason, by string) {
	if s.opts.Records == nil {
		return
	}
	var streams [2]string
	if c.names[0] != "" {
		streams = [2]string{s.opts.StreamPrefix + c.names[0], s.opts.StreamPrefix + c.names[1]}
	}
	from, to := c.transports()
	p2pCodec := ""
	if c.mode == ModeP2P {
		p2pCodec = c.cdr.p2pCodec
	}
	s.opts.Records.CallEnded(Record{P2PCodec: p2pCodec, Streams: streams, Call: c.ID, From: c.From, To: c.To, FromKind: from, ToKind: to,
		Mode: c.mode, FellBack: c.fellBack, Started: c.cdr.started, Answered: c.cdr.answered, Ended: s.opts.Now(),
		Event: typ, Reason: reason, By: by})
}
