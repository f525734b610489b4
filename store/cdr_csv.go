package store

import (
	"encoding/csv"
	"io"
	"strconv"
	"time"
)

// CDRHeader is the first row of WriteCSV, the column names.
var CDRHeader = []string{"id", "caller", "callee", "caller_transport", "callee_transport", "caller_codec", "callee_codec",
	"mode", "fell_back", "started", "answered", "ended", "duration_s", "end_event", "reason", "ended_by",
	"caller_bytes", "callee_bytes", "loss_pct", "jitter_ms", "recording"}

// MembershipHeader is the first row of WriteMembershipsCSV.
var MembershipHeader = []string{"id", "room", "member", "transport", "codec", "joined", "left", "duration_s", "reason", "bytes"}

// SIPLegHeader is the first row of WriteSIPLegsCSV.
var SIPLegHeader = []string{"id", "call_id", "sip_call_id", "direction", "peer", "party", "codec", "started", "answered", "ended",
	"duration_s", "reason", "bytes_in", "bytes_out", "loss_pct", "jitter_ms", "loss_out_pct", "rtt_ms"}

// WebRTCSessionHeader is the first row of WriteWebRTCSessionsCSV.
var WebRTCSessionHeader = []string{"id", "call_id", "stream", "direction", "addr", "codec", "engine", "started", "ended",
	"duration_s", "reason", "packets_in", "packets_out", "loss_in_pct", "loss_out_pct", "jitter_ms", "rtt_ms"}

// WriteCSV writes records as CSV (RFC 4180) under CDRHeader: times in
// RFC 3339 UTC with milliseconds ("" for no answer), the connected
// duration in seconds, "" for a value not known.
func WriteCSV(w io.Writer, cs []CDR) error { return writeCSV(w, CDRHeader, cs, CDR.row) }

// WriteMembershipsCSV writes membership records as WriteCSV does.
func WriteMembershipsCSV(w io.Writer, ms []Membership) error {
	return writeCSV(w, MembershipHeader, ms, Membership.row)
}

// WriteSIPLegsCSV writes SIP leg records as WriteCSV does.
func WriteSIPLegsCSV(w io.Writer, ls []SIPLeg) error {
	return writeCSV(w, SIPLegHeader, ls, SIPLeg.row)
}

// WriteWebRTCSessionsCSV writes WebRTC session records as WriteCSV does.
func WriteWebRTCSessionsCSV(w io.Writer, ss []WebRTCSession) error {
	return writeCSV(w, WebRTCSessionHeader, ss, WebRTCSession.row)
}

func writeCSV[T any](w io.Writer, header []string, rs []T, row func(T) []string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, r := range rs {
		if err := cw.Write(row(r)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func (m Membership) row() []string {
	return []string{m.ID, m.Room, m.Member, m.Transport, m.Codec, FormatTime(m.Joined), FormatTime(m.Left),
		seconds(m.Left.Sub(m.Joined)), m.Reason, FormatInt(m.Bytes)}
}

func (l SIPLeg) row() []string {
	return []string{l.ID, l.CallID, l.SIPCallID, l.Direction, l.Peer, l.Party, l.Codec, FormatTime(l.Started), FormatTime(l.Answered),
		FormatTime(l.Ended), seconds(l.Duration()), l.Reason, FormatInt(l.BytesIn), FormatInt(l.BytesOut), FormatFloat(l.LossPct), FormatFloat(l.JitterMS),
		FormatFloat(l.LossOutPct), FormatFloat(l.RTTMS)}
}

// Duration is how long the leg was connected (0 if never answered).
func (l SIPLeg) Duration() time.Duration {
	if l.Answered.IsZero() {
		return 0
	}
	return l.Ended.Sub(l.Answered)
}

func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }

// FormatInt is *v in decimal, "" for nil (not known).
func FormatInt(v *int64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatInt(*v, 10)
}

// FormatFloat is *v in the shortest decimal form, "" for nil (not known).
func FormatFloat(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

func (c CDR) row() []string {
	return []string{c.ID, c.Caller, c.Callee, c.CallerTransport, c.CalleeTransport, c.CallerCodec, c.CalleeCodec,
		c.Mode, strconv.FormatBool(c.FellBack), FormatTime(c.Started), FormatTime(c.Answered), FormatTime(c.Ended),
		seconds(c.Duration()), c.EndEvent, c.Reason, c.EndedBy,
		FormatInt(c.CallerBytes), FormatInt(c.CalleeBytes), FormatFloat(c.LossPct), FormatFloat(c.JitterMS), c.Recording}
}

// FormatTime is t in RFC 3339 UTC with milliseconds, "" for the zero time.
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}
