package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Registration is one SIP contact bound to a user until Expires.
type Registration struct {
	User, URI, Transport, Source string
	Expires                      time.Time
}

// Registrations returns the bindings that have not expired.
func (d *DB) Registrations(ctx context.Context) ([]Registration, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT username, uri, transport, source, expires_ms FROM sip_registrations
		WHERE expires_ms > $1 ORDER BY username, uri`, ms(d.now()))
	if err != nil {
		return nil, fmt.Errorf("store: registrations: %w", err)
	}
	defer rows.Close()
	var out []Registration
	for rows.Next() {
		var r Registration
		var exp int64
		if err := rows.Scan(&r.User, &r.URI, &r.Transport, &r.Source, &exp); err != nil {
			return nil, fmt.Errorf("store: registrations: %w", err)
		}
		r.Expires = fromMS(exp)
		out = append(out, r)
	}
	return out, rows.Err()
}

// SaveRegistrations replaces every binding with rs, in one transaction:
// the registrar hands over its whole table at each change.
func (d *DB) SaveRegistrations(ctx context.Context, rs []Registration) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sip_registrations`); err != nil {
			return err
		}
		for _, r := range rs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO sip_registrations (username, uri, transport, source, expires_ms) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (username, uri) DO UPDATE SET transport = excluded.transport, source = excluded.source, expires_ms = excluded.expires_ms`,
				r.User, r.URI, r.Transport, r.Source, ms(r.Expires)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: save registrations: %w", err)
	}
	return nil
}
