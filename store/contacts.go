package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
)

// MaxContacts bounds one user's contact list.
const MaxContacts = 1000

// Contacts returns owner's contact list, sorted; set is false when owner
// never set one (then presence works as before contacts existed).
func (d *DB) Contacts(ctx context.Context, owner string) (list []string, set bool, err error) {
	all, err := d.contacts(ctx, `WHERE l.owner = $1`, owner)
	if err != nil {
		return nil, false, err
	}
	list, set = all[owner]
	return list, set, nil
}

// AllContacts returns every list that is set, by owner (the server loads
// them at start).
func (d *DB) AllContacts(ctx context.Context) (map[string][]string, error) {
	return d.contacts(ctx, ``)
}

func (d *DB) contacts(ctx context.Context, where string, args ...any) (map[string][]string, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT l.owner, c.contact FROM contact_lists l
		LEFT JOIN contacts c ON c.owner = l.owner `+where+` ORDER BY l.owner, c.contact`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: contacts: %w", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var owner string
		var contact sql.NullString
		if err := rows.Scan(&owner, &contact); err != nil {
			return nil, fmt.Errorf("store: contacts: %w", err)
		}
		if contact.Valid {
			out[owner] = append(out[owner], contact.String)
		} else if out[owner] == nil {
			out[owner] = []string{}
		}
	}
	return out, rows.Err()
}

// SetContacts replaces owner's list with list (duplicates dropped; at most
// MaxContacts). An empty list is a list: nobody.
func (d *DB) SetContacts(ctx context.Context, owner string, list []string) error {
	uniq := map[string]bool{}
	for _, c := range list {
		uniq[c] = true
	}
	if len(uniq) > MaxContacts {
		return fmt.Errorf("%w: %d contacts, at most %d", ErrTooMany, len(uniq), MaxContacts)
	}
	names := make([]string, 0, len(uniq))
	for c := range uniq {
		names = append(names, c)
	}
	sort.Strings(names)
	err := d.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO contact_lists (owner, updated_ms) VALUES ($1, $2)
			ON CONFLICT (owner) DO UPDATE SET updated_ms = excluded.updated_ms`, owner, ms(d.now())); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM contacts WHERE owner = $1`, owner); err != nil {
			return err
		}
		for _, c := range names {
			if _, err := tx.ExecContext(ctx, `INSERT INTO contacts (owner, contact) VALUES ($1, $2)`, owner, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: set contacts of %q: %w", owner, err)
	}
	return nil
}

// DeleteContacts removes owner's list: back to no list at all.
func (d *DB) DeleteContacts(ctx context.Context, owner string) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM contacts WHERE owner = $1`, owner); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM contact_lists WHERE owner = $1`, owner)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: delete contacts of %q: %w", owner, err)
	}
	return nil
}
