package web

import "github.com/flashvox/flashvox/store"

// membershipRecord is one conference membership in the JSON answer of
// /api/v1/admin/cdr?kind=conference.
type membershipRecord struct {
	ID        string  `json:"id"`
	Room      string  `json:"room"`
	Member    string  `json:"member"`
	Transport string  `json:"transport,omitempty"`
	Codec     string  `json:"codec,omitempty"`
	Joined    string  `json:"joined"`
	Left      string  `json:"left"`
	Duration  float64 `json:"duration"`
	Reason    string  `json:"reason,omitempty"`
	Bytes     *int64  `json:"bytes"` // null: not known
}

func membershipJSON(m store.Membership) membershipRecord {
	return membershipRecord{ID: m.ID, Room: m.Room, Member: m.Member, Transport: m.Transport, Codec: m.Codec,
		Joined: store.FormatTime(m.Joined), Left: store.FormatTime(m.Left), Duration: m.Left.Sub(m.Joined).Seconds(),
		Reason: m.Reason, Bytes: m.Bytes}
}

// legRecord is one SIP leg in the JSON answer of /api/v1/admin/cdr?kind=sip.
type legRecord struct {
	ID        string   `json:"id"`
	CallID    string   `json:"callId,omitempty"`
	SIPCallID string   `json:"sipCallId,omitempty"`
	Direction string   `json:"direction,omitempty"`
	Peer      string   `json:"peer"`
	Party     string   `json:"party,omitempty"`
	Codec     string   `json:"codec,omitempty"`
	Started   string   `json:"started"`
	Answered  string   `json:"answered,omitempty"`
	Ended     string   `json:"ended"`
	Duration  float64  `json:"duration"`
	Reason    string   `json:"reason,omitempty"`
	BytesIn   *int64   `json:"bytesIn"` // null: not known
	BytesOut  *int64   `json:"bytesOut"`
	LossPct   *float64 `json:"lossPct"`
	JitterMS  *float64 `json:"jitterMs"`
	// From the peer's RTCP reports: the share of our packets it missed,
	// the round trip.
	LossOutPct *float64 `json:"lossOutPct"`
	RTTMS      *float64 `json:"rttMs"`
}

func legJSON(l store.SIPLeg) legRecord {
	return legRecord{ID: l.ID, CallID: l.CallID, SIPCallID: l.SIPCallID, Direction: l.Direction, Peer: l.Peer, Party: l.Party,
		Codec: l.Codec, Started: store.FormatTime(l.Started), Answered: store.FormatTime(l.Answered), Ended: store.FormatTime(l.Ended),
		Duration: l.Duration().Seconds(), Reason: l.Reason, BytesIn: l.BytesIn, BytesOut: l.BytesOut, LossPct: l.LossPct, JitterMS: l.JitterMS,
		LossOutPct: l.LossOutPct, RTTMS: l.RTTMS}
}

// webrtcRecord is one WHIP or WHEP session in the JSON answer of
// /api/v1/admin/cdr?kind=webrtc.
type webrtcRecord struct {
	ID         string   `json:"id"`
	CallID     string   `json:"callId,omitempty"`
	Stream     string   `json:"stream"`
	Direction  string   `json:"direction"`
	Addr       string   `json:"addr,omitempty"`
	Codec      string   `json:"codec,omitempty"`
	Engine     string   `json:"engine,omitempty"`
	Started    string   `json:"started"`
	Ended      string   `json:"ended"`
	Duration   float64  `json:"duration"`
	Reason     string   `json:"reason,omitempty"`
	PacketsIn  *int64   `json:"packetsIn"` // null: not known
	PacketsOut *int64   `json:"packetsOut"`
	LossInPct  *float64 `json:"lossInPct"`
	LossOutPct *float64 `json:"lossOutPct"`
	JitterMS   *float64 `json:"jitterMs"`
	RTTMS      *float64 `json:"rttMs"`
}

func webrtcJSON(s store.WebRTCSession) webrtcRecord {
	return webrtcRecord{ID: s.ID, CallID: s.CallID, Stream: s.Stream, Direction: s.Direction, Addr: s.Addr, Codec: s.Codec, Engine: s.Engine,
		Started: store.FormatTime(s.Started), Ended: store.FormatTime(s.Ended), Duration: s.Ended.Sub(s.Started).Seconds(), Reason: s.Reason,
		PacketsIn: s.PacketsIn, PacketsOut: s.PacketsOut, LossInPct: s.LossInPct, LossOutPct: s.LossOutPct, JitterMS: s.JitterMS, RTTMS: s.RTTMS}
}
