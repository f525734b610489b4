package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
)

// Copied counts what Copy copied.
type Copied struct {
	Users, Revoked, Registrations, CDRs int
	Memberships, SIPLegs, ContactLists  int
	WebRTCSessions                      int
}

// Copy copies everything from src to dst (moving from SQLite to
// PostgreSQL, or back): the token secret (so tokens stay valid), users
// with their hashes, roles and times, revoked tokens, registrations and
// call records. dst must be migrated and hold no users and no records, so
// nothing is merged by mistake; src is only read.
func Copy(ctx context.Context, src, dst *DB) (Copied, error) {
	var n Copied
	for _, d := range []*DB{src, dst} {
		if _, _, err := d.Check(ctx); err != nil {
			return n, err
		}
	}
	var users, cdrs int
	if err := dst.db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM cdr)`).Scan(&users, &cdrs); err != nil {
		return n, fmt.Errorf("store: copy: %w", err)
	}
	if users > 0 || cdrs > 0 {
		return n, fmt.Errorf("store: copy: the destination has %d users and %d call records already; copy into an empty database", users, cdrs)
	}
	secret, err := src.Secret(ctx)
	if err != nil {
		return n, err
	}
	err = dst.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES ('token_secret', $1)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value`, hex.EncodeToString(secret))
		return err
	})
	if err != nil {
		return n, fmt.Errorf("store: copy the token secret: %w", err)
	}
	if n.Users, err = copyUsers(ctx, src, dst); err != nil {
		return n, err
	}
	revoked, err := src.RevokedTokens(ctx)
	for _, r := range revoked {
		if err = dst.Revoke(ctx, r); err != nil {
			break
		}
	}
	if err != nil {
		return n, err
	}
	n.Revoked = len(revoked)
	regs, err := src.Registrations(ctx)
	if err == nil {
		err = dst.SaveRegistrations(ctx, regs)
	}
	if err != nil {
		return n, err
	}
	n.Registrations = len(regs)
	return copyRecords(ctx, src, dst, n)
}

// copyRecords copies the call, membership, SIP leg and WebRTC session records and the
// contact lists (after Copy's users).
func copyRecords(ctx context.Context, src, dst *DB, n Copied) (Copied, error) {
	var err error
	if n.CDRs, err = copyPages(ctx, src.CDRs, dst.AddCDRs); err != nil {
		return n, err
	}
	if n.Memberships, err = copyPages(ctx, src.Memberships, dst.AddMemberships); err != nil {
		return n, err
	}
	if n.SIPLegs, err = copyPages(ctx, src.SIPLegs, dst.AddSIPLegs); err != nil {
		return n, err
	}
	if n.WebRTCSessions, err = copyPages(ctx, src.WebRTCSessions, dst.AddWebRTCSessions); err != nil {
		return n, err
	}
	lists, err := src.AllContacts(ctx)
	for owner, list := range lists {
		if err = dst.SetContacts(ctx, owner, list); err != nil {
			break
		}
	}
	n.ContactLists = len(lists)
	return n, err
}

// copyPages copies records page by page with read and add.
func copyPages[T any](ctx context.Context, read func(context.Context, CDRFilter) ([]T, error), add func(context.Context, []T) error) (int, error) {
	total := 0
	for off := 0; ; off += MaxCDRLimit {
		rs, err := read(ctx, CDRFilter{Limit: MaxCDRLimit, Offset: off})
		if err == nil && len(rs) > 0 {
			err = add(ctx, rs)
		}
		if err != nil {
			return total, err
		}
		total += len(rs)
		if len(rs) < MaxCDRLimit {
			return total, nil
		}
	}
}

// copyUsers copies the users with their times.
func copyUsers(ctx context.Context, src, dst *DB) (int, error) {
	us, err := src.Users(ctx)
	if err != nil {
		return 0, err
	}
	err = dst.tx(ctx, func(tx *sql.Tx) error {
		for _, u := range us {
			if _, err := tx.ExecContext(ctx, `INSERT INTO users (`+userCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
				u.Name, u.PasswordHash, u.HA1, u.HA1SHA256, string(u.Role), boolInt(u.Enabled), ms(u.Created), ms(u.Updated)); err != nil {
				return fmt.Errorf("user %q: %w", u.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: copy users: %w", err)
	}
	return len(us), nil
}
