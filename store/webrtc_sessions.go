package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// WebRTCSession is the record of one WHIP or WHEP session that ended.
type WebRTCSession struct {
	ID string
	// CallID is the flashvox call whose audio the session carried ("" for
	// none: a browser publishing or playing any other stream).
	CallID string
	// Stream is the hub key; Direction whip (the browser sent) or whep (it
	// played).
	Stream, Direction string
	// Addr is the browser's IP address, Codec the session's audio codec,
	// Engine the WebRTC engine's name (lite, pion).
	Addr, Codec, Engine string
	Started, Ended      time.Time
	Reason              string
	// PacketsIn and PacketsOut are the RTP packets received and sent; nil
	// when not known (a record that came without figures).
	PacketsIn, PacketsOut *int64
	// LossInPct is the loss of the browser's audio as the server counted
	// it (RTP sequence numbers), LossOutPct the loss of the server's audio
	// as the browser's RTCP reports gave it, JitterMS the browser's audio's
	// interarrival jitter, RTTMS the round trip of the server's reports;
	// nil when not known.
	LossInPct, LossOutPct, JitterMS, RTTMS *float64
}

const webrtcCols = `id, call_id, stream, direction, addr, codec, engine, started_ms, ended_ms, reason,
	packets_in, packets_out, loss_in_pct, loss_out_pct, jitter_ms, rtt_ms`

// AddWebRTCSessions writes session records in one transaction (one
// already written, same id, is kept as it was) and gives their calls'
// records the worst loss and jitter of all their legs.
func (d *DB) AddWebRTCSessions(ctx context.Context, ss []WebRTCSession) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		for _, s := range ss {
			if _, err := tx.ExecContext(ctx, `INSERT INTO webrtc_sessions (`+webrtcCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
				ON CONFLICT (id) DO NOTHING`, s.ID, s.CallID, s.Stream, s.Direction, s.Addr, s.Codec, s.Engine,
				ms(s.Started), ms(s.Ended), s.Reason, s.PacketsIn, s.PacketsOut, s.LossInPct, s.LossOutPct, s.JitterMS, s.RTTMS); err != nil {
				return err
			}
			if err := fillQuality(ctx, tx, s.CallID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: add %d webrtc sessions: %w", len(ss), err)
	}
	return nil
}

// WebRTCSessions returns the session records f selects (User: the stream
// or the browser's address; the time is the start).
func (d *DB) WebRTCSessions(ctx context.Context, f CDRFilter) ([]WebRTCSession, error) {
	q, args := f.query(`SELECT `+webrtcCols+` FROM webrtc_sessions`, "started_ms", "stream", "addr")
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: webrtc sessions: %w", err)
	}
	defer rows.Close()
	var out []WebRTCSession
	for rows.Next() {
		var s WebRTCSession
		var started, ended int64
		if err := rows.Scan(&s.ID, &s.CallID, &s.Stream, &s.Direction, &s.Addr, &s.Codec, &s.Engine, &started, &ended, &s.Reason,
			&s.PacketsIn, &s.PacketsOut, &s.LossInPct, &s.LossOutPct, &s.JitterMS, &s.RTTMS); err != nil {
			return nil, fmt.Errorf("store: webrtc sessions: %w", err)
		}
		s.Started, s.Ended = fromMS(started), fromMS(ended)
		out = append(out, s)
	}
	return out, rows.Err()
}

func (s WebRTCSession) row() []string {
	return []string{s.ID, s.CallID, s.Stream, s.Direction, s.Addr, s.Codec, s.Engine, FormatTime(s.Started), FormatTime(s.Ended),
		seconds(s.Ended.Sub(s.Started)), s.Reason, FormatInt(s.PacketsIn), FormatInt(s.PacketsOut),
		FormatFloat(s.LossInPct), FormatFloat(s.LossOutPct), FormatFloat(s.JitterMS), FormatFloat(s.RTTMS)}
}
