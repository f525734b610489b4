package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"time"
)

// secretLen is the size of the token secret Secret generates.
const secretLen = 32

// Secret returns the token-signing secret, generating it on the first call
// ever: every process on the database (every restart, every node) signs
// and checks tokens with the same key.
func (d *DB) Secret(ctx context.Context) ([]byte, error) {
	var hexed string
	err := d.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = 'token_secret'`).Scan(&hexed)
		if err != sql.ErrNoRows {
			return err
		}
		b := make([]byte, secretLen)
		rand.Read(b) // never fails (crypto/rand panics on a broken system)
		hexed = hex.EncodeToString(b)
		// Two nodes may race on an empty PostgreSQL database: the loser's
		// insert does nothing and it reads the winner's value.
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES ('token_secret', $1) ON CONFLICT (name) DO NOTHING`, hexed); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = 'token_secret'`).Scan(&hexed)
	})
	if err != nil {
		return nil, fmt.Errorf("store: token secret: %w", err)
	}
	b, err := hex.DecodeString(hexed)
	if err != nil || len(b) < 16 {
		return nil, fmt.Errorf("store: token secret in settings is not hex of 16+ bytes")
	}
	return b, nil
}

// Revoked is a revoked token, kept until it expires.
type Revoked struct {
	ID, User string // ID: the token's signature, hex
	Expires  time.Time
}

// Revoke records a revoked token (again: nothing).
func (d *DB) Revoke(ctx context.Context, r Revoked) error {
	_, err := d.db.ExecContext(ctx, `INSERT INTO revoked_tokens (id, username, expires_ms) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING`,
		r.ID, r.User, ms(r.Expires))
	if err != nil {
		return fmt.Errorf("store: revoke: %w", err)
	}
	return nil
}

// RevokedTokens returns the revoked tokens that have not expired, and
// deletes those that have.
func (d *DB) RevokedTokens(ctx context.Context) ([]Revoked, error) {
	now := ms(d.now())
	if _, err := d.db.ExecContext(ctx, `DELETE FROM revoked_tokens WHERE expires_ms <= $1`, now); err != nil {
		return nil, fmt.Errorf("store: prune revoked tokens: %w", err)
	}
	rows, err := d.db.QueryContext(ctx, `SELECT id, username, expires_ms FROM revoked_tokens ORDER BY expires_ms`)
	if err != nil {
		return nil, fmt.Errorf("store: revoked tokens: %w", err)
	}
	defer rows.Close()
	var out []Revoked
	for rows.Next() {
		var r Revoked
		var exp int64
		if err := rows.Scan(&r.ID, &r.User, &exp); err != nil {
			return nil, fmt.Errorf("store: revoked tokens: %w", err)
		}
		r.Expires = fromMS(exp)
		out = append(out, r)
	}
	return out, rows.Err()
}
