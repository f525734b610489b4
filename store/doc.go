// Package store keeps what must outlive a process: accounts (argon2id hash
// and SIP HA1s as package account and internal/passhash make them, role,
// enabled), the token-signing secret (generated once), revoked tokens until
// they expire, SIP registrations with their expiry, call detail records, and
// the conference room leases of a cluster (leases.go).
//
// One implementation over database/sql serves two engines, chosen by the
// URL (Open): SQLite, the embedded default (a file in data_dir, no set-up),
// and PostgreSQL for deployments with several nodes. The schema is
// versioned in migrations/ (plain SQL that both engines run: TEXT, BIGINT,
// INTEGER, times as Unix milliseconds, booleans as 0/1, ids made in Go),
// applied in order at start, each in its own transaction.
//
// SQLite driver: modernc.org/sqlite (pure Go, SQLite translated to Go), not
// mattn/go-sqlite3 (cgo). The server already needs cgo for Speex, but the
// operator tools and `CGO_ENABLED=0 go build ./cmd/flashvox` (which Windows
// cross builds and the fallback builds use) must keep working, and a
// second C toolchain dependency for a store doing a few writes a second buys
// nothing: modernc is slower per query (~2×), which at this load does not
// show.
//
// PostgreSQL: github.com/jackc/pgx/v5 through its database/sql adapter
// (stdlib), so the SQL and the code are the same for both engines; `$N`
// placeholders are understood by both.
package store
