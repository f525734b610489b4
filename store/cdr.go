package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// CDR is the record of one ended call.
type CDR struct {
	ID, Caller, Callee string
	// CallerTransport and CalleeTransport: rtmp, rtmfp, http, sip, … (""
	// for a callee that never answered).
	CallerTransport, CalleeTransport string
	// CallerCodec and CalleeCodec are what each side sent, where known.
	CallerCodec, CalleeCodec string
	// Mode is p2p or relay ("" if never answered); FellBack: answered
	// p2p, ended relayed.
	Mode     string
	FellBack bool
	// Answered is zero for a call nobody answered.
	Started, Answered, Ended time.Time
	// EndEvent is bye, canceled or rejected; Reason and EndedBy as the
	// call's last event says (hangup, busy, no_answer, gone, shutdown, …).
	EndEvent, Reason, EndedBy string
	// CallerBytes and CalleeBytes are the audio payload bytes each side
	// sent through the server; nil when not known (a p2p call's media
	// does not pass the server).
	CallerBytes, CalleeBytes *int64
	// LossPct and JitterMS are the worst of the call's legs, either way:
	// its SIP legs (sip_legs: the peer's RTP as flashvox measured it, ours
	// as the peer's reports say) and its pages' WebRTC sessions
	// (webrtc_sessions); nil for calls without such figures.
	LossPct, JitterMS *float64
	// Recording is the file the call was recorded to, "" for none.
	Recording string
}

// Duration is how long the call was connected (0 if never answered).
func (c CDR) Duration() time.Duration {
	if c.Answered.IsZero() {
		return 0
	}
	return c.Ended.Sub(c.Answered)
}

const cdrCols = `id, caller, callee, caller_transport, callee_transport, caller_codec, callee_codec, mode, fell_back,
	started_ms, answered_ms, ended_ms, end_event, reason, ended_by, caller_bytes, callee_bytes, loss_pct, jitter_ms, recording`

// AddCDRs writes records in one transaction; a record already written
// (same id) is kept as it was.
func (d *DB) AddCDRs(ctx context.Context, cs []CDR) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		for _, c := range cs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO cdr (`+cdrCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
				ON CONFLICT (id) DO NOTHING`,
				c.ID, c.Caller, c.Callee, c.CallerTransport, c.CalleeTransport, c.CallerCodec, c.CalleeCodec, c.Mode, boolInt(c.FellBack),
				ms(c.Started), ms(c.Answered), ms(c.Ended), c.EndEvent, c.Reason, c.EndedBy,
				c.CallerBytes, c.CalleeBytes, c.LossPct, c.JitterMS, c.Recording); err != nil {
				return err
			}
			if c.LossPct == nil {
				if err := fillQuality(ctx, tx, c.ID); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: add %d cdrs: %w", len(cs), err)
	}
	return nil
}

// CDRFilter selects records: started in [From, To) (zero = open), with
// User as either party (""= anyone); newest first, Limit (default 100, at
// most MaxCDRLimit) from Offset.
type CDRFilter struct {
	From, To      time.Time
	User          string
	Limit, Offset int
}

// MaxCDRLimit bounds one page of records.
const MaxCDRLimit = 10000

// CDRs returns the records f selects.
func (d *DB) CDRs(ctx context.Context, f CDRFilter) ([]CDR, error) {
	q, args := f.query(`SELECT `+cdrCols+` FROM cdr`, "started_ms", "caller", "callee")
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: cdrs: %w", err)
	}
	defer rows.Close()
	var out []CDR
	for rows.Next() {
		var c CDR
		var fellBack int
		var started, answered, ended int64
		if err := rows.Scan(&c.ID, &c.Caller, &c.Callee, &c.CallerTransport, &c.CalleeTransport, &c.CallerCodec, &c.CalleeCodec, &c.Mode, &fellBack,
			&started, &answered, &ended, &c.EndEvent, &c.Reason, &c.EndedBy, &c.CallerBytes, &c.CalleeBytes, &c.LossPct, &c.JitterMS, &c.Recording); err != nil {
			return nil, fmt.Errorf("store: cdrs: %w", err)
		}
		c.FellBack, c.Started, c.Answered, c.Ended = fellBack != 0, fromMS(started), fromMS(answered), fromMS(ended)
		out = append(out, c)
	}
	return out, rows.Err()
}

// query completes sel with f's conditions on the time column and the
// party columns (User matches any of them), newest first, one page.
func (f CDRFilter) query(sel, timeCol string, partyCols ...string) (string, []any) {
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if !f.From.IsZero() {
		where = append(where, timeCol+" >= "+arg(ms(f.From)))
	}
	if !f.To.IsZero() {
		where = append(where, timeCol+" < "+arg(ms(f.To)))
	}
	if f.User != "" {
		p := arg(f.User)
		var or []string
		for _, c := range partyCols {
			or = append(or, c+" = "+p)
		}
		where = append(where, "("+strings.Join(or, " OR ")+")")
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	q := sel
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY ` + timeCol + ` DESC, id DESC LIMIT ` + arg(min(f.Limit, MaxCDRLimit)) + ` OFFSET ` + arg(max(f.Offset, 0))
	return q, args
}
