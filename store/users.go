package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Role is what a user may do besides calling: admin (the admin API and
// every record), moderator (conference moderation), user.
type Role string

// Roles.
const (
	RoleAdmin     Role = "admin"
	RoleModerator Role = "moderator"
	RoleUser      Role = "user"
)

// ParseRole reads a role name.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleAdmin, RoleModerator, RoleUser:
		return r, nil
	}
	return "", fmt.Errorf("role must be admin, moderator or user, got %q", s)
}

// User is one account. PasswordHash is an argon2id PHC string and HA1,
// HA1SHA256 the SIP digest values, all as internal/passhash makes them
// (the store never sees a password).
type User struct {
	Name             string
	PasswordHash     string
	HA1, HA1SHA256   string
	Role             Role
	Enabled          bool
	Created, Updated time.Time
}

const userCols = `name, password_hash, ha1_md5, ha1_sha256, role, enabled, created_ms, updated_ms`

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	var enabled int
	var created, updated int64
	err := row.Scan(&u.Name, &u.PasswordHash, &u.HA1, &u.HA1SHA256, &u.Role, &enabled, &created, &updated)
	u.Enabled, u.Created, u.Updated = enabled != 0, fromMS(created), fromMS(updated)
	return u, err
}

// User returns the account name; ErrNotFound if there is none.
func (d *DB) User(ctx context.Context, name string) (User, error) {
	u, err := scanUser(d.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE name = $1`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("user %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("store: user %q: %w", name, err)
	}
	return u, nil
}

// Users lists every account by name.
func (d *DB) Users(ctx context.Context) ([]User, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+userCols+` FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: users: %w", err)
	}
	defer rows.Close()
	var us []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("store: users: %w", err)
		}
		us = append(us, u)
	}
	return us, rows.Err()
}

// AddUser creates an account; ErrExists if the name is taken. An empty
// Role is RoleUser.
func (d *DB) AddUser(ctx context.Context, u User) error {
	if u.Role == "" {
		u.Role = RoleUser
	}
	if _, err := ParseRole(string(u.Role)); err != nil {
		return err
	}
	now := ms(d.now())
	var n int
	return d.tx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE name = $1`, u.Name).Scan(&n); err != nil {
			return fmt.Errorf("store: add user %q: %w", u.Name, err)
		}
		if n > 0 {
			return fmt.Errorf("user %q: %w", u.Name, ErrExists)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO users (`+userCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			u.Name, u.PasswordHash, u.HA1, u.HA1SHA256, string(u.Role), boolInt(u.Enabled), now, now)
		if err != nil {
			return fmt.Errorf("store: add user %q: %w", u.Name, err)
		}
		return nil
	})
}

// SetPassword replaces a user's password hash and HA1s.
func (d *DB) SetPassword(ctx context.Context, name, hash, ha1, ha1SHA256 string) error {
	return d.update(ctx, name, `password_hash = $2, ha1_md5 = $3, ha1_sha256 = $4`, hash, ha1, ha1SHA256)
}

// SetEnabled enables or disables a user.
func (d *DB) SetEnabled(ctx context.Context, name string, enabled bool) error {
	return d.update(ctx, name, `enabled = $2`, boolInt(enabled))
}

// SetRole changes a user's role.
func (d *DB) SetRole(ctx context.Context, name string, r Role) error {
	if _, err := ParseRole(string(r)); err != nil {
		return err
	}
	return d.update(ctx, name, `role = $2`, string(r))
}

// update sets columns of user name ($1; the values from $2 on, then
// updated_ms); ErrNotFound when there is no such user.
func (d *DB) update(ctx context.Context, name, set string, args ...any) error {
	q := fmt.Sprintf(`UPDATE users SET %s, updated_ms = $%d WHERE name = $1`, set, len(args)+2)
	res, err := d.db.ExecContext(ctx, q, append(append([]any{name}, args...), ms(d.now()))...)
	if err != nil {
		return fmt.Errorf("store: update user %q: %w", name, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("user %q: %w", name, ErrNotFound)
	}
	return nil
}

// Seed adds users when the store has none (the first start): the YAML
// users: list seeds the store once, then the store is the truth. It
// reports whether it added them.
func (d *DB) Seed(ctx context.Context, users []User) (bool, error) {
	seeded := false
	now := ms(d.now())
	err := d.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil || n > 0 || len(users) == 0 {
			return err
		}
		for _, u := range users {
			if u.Role == "" {
				u.Role = RoleUser
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO users (`+userCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
				u.Name, u.PasswordHash, u.HA1, u.HA1SHA256, string(u.Role), boolInt(u.Enabled), now, now); err != nil {
				return fmt.Errorf("user %q: %w", u.Name, err)
			}
		}
		seeded = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: seed users: %w", err)
	}
	return seeded, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
