package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Sample is one point of the operator dashboard's charts on one node.
type Sample struct {
	At             time.Time
	Calls, Streams int
}

// AddSample keeps node's sample s and forgets node's samples older than
// s.At minus keep (the charts show a bounded window: the table stays
// that size). A sample at an instant already kept is ignored.
func (d *DB) AddSample(ctx context.Context, node string, s Sample, keep time.Duration) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO dashboard_samples (node, at_ms, calls, streams) VALUES ($1, $2, $3, $4)
			ON CONFLICT (node, at_ms) DO NOTHING`, node, ms(s.At), s.Calls, s.Streams); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM dashboard_samples WHERE node = $1 AND at_ms < $2`, node, ms(s.At.Add(-keep)))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: add sample: %w", err)
	}
	return nil
}

// Samples are node's samples at or after since, oldest first, at most max.
func (d *DB) Samples(ctx context.Context, node string, since time.Time, max int) ([]Sample, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT at_ms, calls, streams FROM dashboard_samples
		WHERE node = $1 AND at_ms >= $2 ORDER BY at_ms DESC LIMIT $3`, node, ms(since), max)
	if err != nil {
		return nil, fmt.Errorf("store: samples: %w", err)
	}
	defer rows.Close()
	var out []Sample
	for rows.Next() {
		var at int64
		var s Sample
		if err := rows.Scan(&at, &s.Calls, &s.Streams); err != nil {
			return nil, fmt.Errorf("store: samples: %w", err)
		}
		s.At = fromMS(at)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: samples: %w", err)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}
