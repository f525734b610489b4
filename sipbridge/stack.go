package sipbridge

import (
	"bytes"
	"context"
	"time"

	"github.com/pion/rtp"

	"github.com/flashvox/flashvox/codec"
)

// stack is the SIP user agent under the bridge: signalling, SDP and RTP
// sockets. diagoStack implements it; the bridge uses nothing else of the
// SIP library, so the library can be replaced behind these three
// interfaces.
type stack interface {
	// Invite places a call and returns when it is answered; a final
	// non-2xx response is a *StatusError. Ending ctx before the answer
	// sends CANCEL.
	Invite(ctx context.Context, in invite) (channel, error)
	// Registration is a binding of our address at a trunk (REGISTER).
	Registration(r registerReq) (registerClient, error)
	// Addr is the host:port the stack listens on (UDP and TCP).
	Addr() string
	// TLSAddr is the host:port of the TLS listener, "" without one.
	TLSAddr() string
	Close() error
}

// invite is an outbound INVITE.
type invite struct {
	User     string // request-URI user part: the dialed number
	HostPort string // the trunk's proxy
	// URI, when set, is the whole request-URI (a registered phone's
	// contact) and replaces User and HostPort.
	URI       string
	Transport string // udp | tcp | tls
	From      string // From user part: the calling web user
	Username  string // digest credentials for 401/407
	Password  string
	// OnProgress is told each provisional status (180, 183).
	OnProgress func(status int)
	// Codecs are offered in this order (telephone-event is added); nil:
	// diago's configured list (offerCodecs).
	Codecs []codec.ID
	// OnEarlyMedia, if set, is given the channel of a 183 with SDP before
	// the answer (on Invite's goroutine; it must not block). Invite then
	// returns that same channel when the call is answered; a failed call
	// closes it.
	OnEarlyMedia func(channel)
}

// registerReq is the account a trunk registration binds.
type registerReq struct {
	HostPort  string // the trunk's registrar
	Transport string // udp | tcp | tls
	Username  string // AOR user and digest credentials
	Password  string
}

// registerClient refreshes one binding. Register asks for expires (0
// removes the binding) and returns the lifetime the trunk granted; a
// final non-2xx is a *StatusError.
type registerClient interface {
	Register(ctx context.Context, expires time.Duration) (time.Duration, error)
}

// channel is an established call: the negotiated codec and its RTP.
type channel interface {
	Codec() rtpCodec
	// CallID is the dialog's SIP Call-ID (for the leg's record).
	CallID() string
	// ReadRTP reads one RTP packet into p (payload aliases buf). It fails
	// once the channel is closed.
	ReadRTP(buf []byte, p *rtp.Packet) error
	WriteRTP(p *rtp.Packet) error
	// Hangup sends BYE.
	Hangup(ctx context.Context) error
	// Done is closed when the dialog ends (BYE either way).
	Done() <-chan struct{}
	// Direction is what the peer's latest SDP lets us do: sendrecv,
	// recvonly (it holds with sendonly: send nothing), inactive.
	// Changed is signalled (without blocking) on every media update.
	Direction() string
	Changed() <-chan struct{}
	// Close releases the RTP sockets; a blocked ReadRTP returns.
	Close() error
	// OnPeerReport has fn called with each RTCP report block the peer
	// sends about our audio (on the channel's RTCP reader: it must not
	// block); a later call replaces fn.
	OnPeerReport(fn func(peerReport))
}

// offer is an inbound INVITE waiting for the bridge's decision. The stack
// calls the bridge's handler with it on its own goroutine, and ends the
// dialog when the handler returns.
type offer interface {
	FromUser() string // From user part
	ToUser() string   // request-URI user part
	Source() string   // remote host:port the INVITE came from
	// Header returns the first value of a header, "" if absent.
	Header(name string) string
	Method() string
	RequestURI() string
	Ringing() error
	// Answer sends 200 OK with our SDP answer and waits for the ACK.
	Answer() (channel, error)
	// AnswerWith answers with the first codec of pref that the INVITE
	// offers, passThrough (when not 0) before the others; none: 488.
	AnswerWith(pref []codec.ID, passThrough codec.ID) (channel, error)
	// Chooses is the codec AnswerWith(pref, passThrough) would answer
	// with, 0 if none (it would refuse).
	Chooses(pref []codec.ID, passThrough codec.ID) codec.ID
	// Offered are our codecs among the INVITE's, in its order.
	Offered() []codec.ID
	Respond(code int, reason string, headers ...[2]string) error
	// Canceled is closed when the caller sends CANCEL before the answer.
	Canceled() <-chan struct{}
}

// registration is a REGISTER request waiting for the bridge's answer.
type registration interface {
	User() string     // To user part: the account registering
	FromUser() string // From user part: who registers it
	// Contacts are the bindings asked for; Expires is -1 when the contact
	// names none. A wildcard "*" contact is Wildcard.
	Contacts() []contact
	Expires() int // the Expires header, -1 if absent
	Header(name string) string
	Method() string
	RequestURI() string
	Source() string    // remote host:port
	Transport() string // udp | tcp | tls
	Respond(code int, reason string, headers ...[2]string) error
}

// contact is one Contact of a REGISTER.
type contact struct {
	URI      string
	Expires  int // -1: not given
	Wildcard bool
}

// rtpCodec is what a channel negotiated: the audio codec and, if the peer
// accepted telephone-event, its payload type.
type rtpCodec struct {
	ID          codec.ID
	PayloadType uint8
	ClockRate   int
	DTMF        bool
	DTMFType    uint8
}

// Media directions of a channel (RFC 3264 6.1), ours: what we may do.
const (
	dirSendRecv = "sendrecv"
	dirRecvOnly = "recvonly" // the peer holds with a=sendonly
	dirSendOnly = "sendonly"
	dirInactive = "inactive" // the peer holds with a=inactive
)

// sdpDirection is the direction attribute of an SDP body (the first one:
// a session-level attribute or the audio stream's), sendrecv when absent.
func sdpDirection(sdp []byte) string {
	for line := range bytes.Lines(sdp) {
		switch string(bytes.TrimSpace(line)) {
		case "a=" + dirSendRecv:
			return dirSendRecv
		case "a=" + dirRecvOnly:
			return dirRecvOnly
		case "a=" + dirSendOnly:
			return dirSendOnly
		case "a=" + dirInactive:
			return dirInactive
		}
	}
	return dirSendRecv
}
