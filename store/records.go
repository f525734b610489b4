package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Record kinds, as GET /api/v1/admin/cdr?kind= and `flashvox cdr --kind`
// name them.
const (
	KindCall       = "call"       // a call between two parties (table cdr)
	KindConference = "conference" // a conference membership (conf_members)
	KindSIP        = "sip"        // a SIP leg (sip_legs)
	KindWebRTC     = "webrtc"     // a WHIP or WHEP session (webrtc_sessions)
)

// Membership is the record of one conference membership that ended.
type Membership struct {
	// ID is the membership's (the room's member id).
	ID, Room, Member string
	// Transport is the member's (rtmp, rtmfp, http, sip, …), Codec what it
	// sent, where known.
	Transport, Codec string
	Joined, Left     time.Time
	// Reason is why it ended: left, kicked, gone, ended, shutdown.
	Reason string
	// Bytes the member sent through the server; nil when not known.
	Bytes *int64
}

// SIPLeg is the record of one SIP leg that ended.
type SIPLeg struct {
	ID string
	// CallID is the flashvox call the leg belonged to ("" for none), SIPCallID
	// the SIP dialog's Call-ID.
	CallID, SIPCallID string
	// Direction is in (the peer called) or out; Peer the trunk's name or
	// the phone's user; Party the flashvox user or room on the other side.
	Direction, Peer, Party string
	Codec                  string
	Started, Answered      time.Time
	Ended                  time.Time
	Reason                 string
	// BytesIn and BytesOut are RTP payload bytes received and sent; nil
	// when not known.
	BytesIn, BytesOut *int64
	// LossPct and JitterMS are the peer's RTP as flashvox received it
	// (missing by sequence number, RFC 3550 interarrival jitter);
	// LossOutPct and RTTMS what the peer's RTCP reports said of ours (the
	// share it missed, the round trip); nil when not known.
	LossPct, JitterMS, LossOutPct, RTTMS *float64
}

const memberCols = `id, room, member, transport, codec, joined_ms, left_ms, reason, bytes`

// AddMemberships writes membership records in one transaction; one already
// written (same id) is kept as it was.
func (d *DB) AddMemberships(ctx context.Context, list []Membership) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		for _, m := range list {
			if _, err := tx.ExecContext(ctx, `INSERT INTO conf_members (`+memberCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
				ON CONFLICT (id) DO NOTHING`, m.ID, m.Room, m.Member, m.Transport, m.Codec, ms(m.Joined), ms(m.Left), m.Reason, m.Bytes); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: add %d memberships: %w", len(list), err)
	}
	return nil
}

// Memberships returns the membership records f selects (User: the member;
// the time is the join).
func (d *DB) Memberships(ctx context.Context, f CDRFilter) ([]Membership, error) {
	q, args := f.query(`SELECT `+memberCols+` FROM conf_members`, "joined_ms", "member")
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: memberships: %w", err)
	}
	defer rows.Close()
	var out []Membership
	for rows.Next() {
		var m Membership
		var joined, left int64
		if err := rows.Scan(&m.ID, &m.Room, &m.Member, &m.Transport, &m.Codec, &joined, &left, &m.Reason, &m.Bytes); err != nil {
			return nil, fmt.Errorf("store: memberships: %w", err)
		}
		m.Joined, m.Left = fromMS(joined), fromMS(left)
		out = append(out, m)
	}
	return out, rows.Err()
}

const legCols = `id, call_id, sip_call_id, direction, peer, party, codec, started_ms, answered_ms, ended_ms, reason,
	bytes_in, bytes_out, loss_pct, jitter_ms, loss_out_pct, rtt_ms`

// AddSIPLegs writes SIP leg records in one transaction; one already
// written (same id) is kept as it was.
func (d *DB) AddSIPLegs(ctx context.Context, ls []SIPLeg) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		for _, l := range ls {
			if _, err := tx.ExecContext(ctx, `INSERT INTO sip_legs (`+legCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
				ON CONFLICT (id) DO NOTHING`, l.ID, l.CallID, l.SIPCallID, l.Direction, l.Peer, l.Party, l.Codec,
				ms(l.Started), ms(l.Answered), ms(l.Ended), l.Reason, l.BytesIn, l.BytesOut, l.LossPct, l.JitterMS, l.LossOutPct, l.RTTMS); err != nil {
				return err
			}
			if err := fillQuality(ctx, tx, l.CallID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: add %d sip legs: %w", len(ls), err)
	}
	return nil
}

// SIPLegs returns the SIP leg records f selects (User: the peer or the party).
func (d *DB) SIPLegs(ctx context.Context, f CDRFilter) ([]SIPLeg, error) {
	q, args := f.query(`SELECT `+legCols+` FROM sip_legs`, "started_ms", "peer", "party")
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: sip legs: %w", err)
	}
	defer rows.Close()
	var out []SIPLeg
	for rows.Next() {
		var l SIPLeg
		var started, answered, ended int64
		if err := rows.Scan(&l.ID, &l.CallID, &l.SIPCallID, &l.Direction, &l.Peer, &l.Party, &l.Codec, &started, &answered, &ended, &l.Reason,
			&l.BytesIn, &l.BytesOut, &l.LossPct, &l.JitterMS, &l.LossOutPct, &l.RTTMS); err != nil {
			return nil, fmt.Errorf("store: sip legs: %w", err)
		}
		l.Started, l.Answered, l.Ended = fromMS(started), fromMS(answered), fromMS(ended)
		out = append(out, l)
	}
	return out, rows.Err()
}

// fillQuality gives call id's record the worst loss and jitter of its
// legs written so far, SIP legs and WebRTC sessions (either way), as each
// of them or the record itself is written.
func fillQuality(ctx context.Context, tx *sql.Tx, id string) error {
	if id == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE cdr SET
		loss_pct = (SELECT MAX(v) FROM (SELECT loss_pct AS v FROM sip_legs WHERE call_id = $1
			UNION ALL SELECT loss_out_pct FROM sip_legs WHERE call_id = $1
			UNION ALL SELECT loss_in_pct FROM webrtc_sessions WHERE call_id = $1
			UNION ALL SELECT loss_out_pct FROM webrtc_sessions WHERE call_id = $1) AS l),
		jitter_ms = (SELECT MAX(v) FROM (SELECT jitter_ms AS v FROM sip_legs WHERE call_id = $1
			UNION ALL SELECT jitter_ms FROM webrtc_sessions WHERE call_id = $1) AS j)
		WHERE id = $1`, id)
	return err
}
