package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"
)

// Engine names the database behind a DB.
type Engine string

// Engines.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// FileName is the SQLite file in data_dir (URLForDataDir).
const FileName = "flashvox.db"

// DB is the store on one database. Safe for concurrent use, and for use
// by several processes at once (the server and `flashvox user …`): SQLite
// in WAL mode with a busy timeout and immediate write transactions,
// PostgreSQL as it is.
type DB struct {
	db     *sql.DB
	engine Engine
	now    func() time.Time
}

// URLForDataDir is the URL of the SQLite file in dir.
func URLForDataDir(dir string) string { return "sqlite:" + filepath.Join(dir, FileName) }

// Redact is url without its password, for logs and errors.
func Redact(url string) string {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return url
	}
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return url
	}
	if user, _, ok := strings.Cut(rest[:at], ":"); ok {
		return scheme + "://" + user + ":xxxxx" + rest[at:]
	}
	return url
}

// Open connects to url: "sqlite:PATH" (the file is created, mode 0600, in
// a directory that must exist) or "postgres://…" / "postgresql://…" (a
// libpq URL). It does not migrate: call Migrate (the server does at start)
// or Check.
func Open(ctx context.Context, url string) (*DB, error) {
	var (
		d   = &DB{now: time.Now}
		err error
	)
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		d.engine = Postgres
		d.db, err = sql.Open("pgx", url)
	case strings.HasPrefix(url, "sqlite:"):
		d.engine = SQLite
		d.db, err = openSQLite(strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "//"))
	default:
		return nil, fmt.Errorf("%w, got %q", ErrBadURL, Redact(url))
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", Redact(url), err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := d.db.PingContext(pctx); err != nil {
		d.db.Close()
		return nil, fmt.Errorf("store: connect %s: %w", Redact(url), err)
	}
	return d, nil
}

// openSQLite creates the file 0600 (it holds password hashes and the token
// secret; SQLite gives its -wal and -shm files the same mode) and opens it
// in WAL mode, so readers never wait for the writer, with a busy timeout
// and BEGIN IMMEDIATE, so two processes' writes queue instead of failing.
func openSQLite(path string) (*sql.DB, error) {
	if path == "" {
		return nil, fmt.Errorf("%w: empty sqlite path", ErrBadURL)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	f.Close()
	dsn := "file:" + path + "?_txlock=immediate&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(4)
	return db, nil
}

// Engine is the database engine of d.
func (d *DB) Engine() Engine { return d.engine }

// Close closes the connections.
func (d *DB) Close() error { return d.db.Close() }

// tx runs f in a transaction, committed when f returns nil.
func (d *DB) tx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// ms is t in Unix milliseconds, 0 for the zero time.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMS is the inverse of ms.
func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}
