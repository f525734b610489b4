package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one schema step: migrations/NNNN_name.sql.
type Migration struct {
	Version int
	Name    string
	sql     string
}

// Migrations are the schema steps of this build, in order.
func Migrations() []Migration {
	ents, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		panic(err) // embedded at build time
	}
	var ms []Migration
	for _, e := range ents {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			panic("store: migration file name " + e.Name() + " is not NNNN_name.sql")
		}
		b, _ := migrationFiles.ReadFile("migrations/" + e.Name())
		ms = append(ms, Migration{Version: v, Name: name, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	return ms
}

// Latest is the schema version of this build.
func Latest() int {
	m := Migrations()
	return m[len(m)-1].Version
}

const createMigrations = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version INTEGER PRIMARY KEY,
	name TEXT NOT NULL,
	applied_ms BIGINT NOT NULL
)`

// Version is the database's schema version (0: empty database).
func (d *DB) Version(ctx context.Context) (int, error) {
	var v sql.NullInt64
	err := d.db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v)
	if err != nil {
		if exists, xerr := d.hasMigrationsTable(ctx); xerr == nil && !exists {
			return 0, nil
		}
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return int(v.Int64), nil
}

func (d *DB) hasMigrationsTable(ctx context.Context) (bool, error) {
	q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`
	if d.engine == Postgres {
		q = `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'schema_migrations'`
	}
	var n int
	err := d.db.QueryRowContext(ctx, q).Scan(&n)
	return n > 0, err
}

// Check compares the database's schema with this build's: nil when equal,
// ErrSchemaOld when `flashvox db migrate` (or a start) would bring it up
// to date, ErrSchemaNewer when a newer flashvox migrated it.
func (d *DB) Check(ctx context.Context) (have, want int, err error) {
	have, err = d.Version(ctx)
	if err != nil {
		return 0, 0, err
	}
	want = Latest()
	switch {
	case have < want:
		return have, want, fmt.Errorf("%w: version %d, this flashvox has %d (run `flashvox db migrate`)", ErrSchemaOld, have, want)
	case have > want:
		return have, want, fmt.Errorf("%w: version %d, this flashvox knows %d", ErrSchemaNewer, have, want)
	}
	return have, want, nil
}

// Migrate applies the steps the database lacks, up to version upTo (0 =
// Latest), each in its own transaction, and returns those applied. On
// PostgreSQL an advisory lock makes nodes starting together take turns;
// SQLite's immediate transactions do the same. A database newer than this
// build is refused (ErrSchemaNewer).
func (d *DB) Migrate(ctx context.Context, upTo int) ([]Migration, error) {
	if upTo == 0 {
		upTo = Latest()
	}
	var done []Migration
	for _, m := range Migrations() {
		if m.Version > upTo {
			break
		}
		applied, err := d.apply(ctx, m)
		if err != nil {
			return done, fmt.Errorf("store: migration %04d_%s: %w", m.Version, m.Name, err)
		}
		if applied {
			done = append(done, m)
		}
	}
	if _, _, err := d.Check(ctx); err != nil && upTo == Latest() {
		return done, err
	}
	return done, nil
}

// apply runs m unless the database has it already.
func (d *DB) apply(ctx context.Context, m Migration) (bool, error) {
	applied := false
	err := d.tx(ctx, func(tx *sql.Tx) error {
		if d.engine == Postgres {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7263510021)`); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, createMigrations); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = $1`, m.Version).Scan(&n); err != nil || n > 0 {
			return err
		}
		for _, stmt := range statements(m.sql) {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("%w in %q", err, firstLine(stmt))
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_ms) VALUES ($1, $2, $3)`, m.Version, m.Name, ms(d.now()))
		applied = err == nil
		return err
	})
	return applied, err
}

// statements splits a migration at the semicolons that end a line
// ("--" comment lines dropped); the files put no semicolon at a line's
// end inside a statement.
func statements(text string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(text, "\n") {
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		cur.WriteString(line + "\n")
		if strings.HasSuffix(strings.TrimSpace(line), ";") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
