-- Accounts, the token secret, revoked tokens and SIP registrations.
-- Portable SQL (SQLite and PostgreSQL): times are Unix milliseconds,
-- booleans 0/1, ids made by flashvox.

CREATE TABLE users (
	name TEXT PRIMARY KEY,
	password_hash TEXT NOT NULL,
	ha1_md5 TEXT NOT NULL DEFAULT '',
	ha1_sha256 TEXT NOT NULL DEFAULT '',
	role TEXT NOT NULL DEFAULT 'user',
	enabled INTEGER NOT NULL DEFAULT 1,
	created_ms BIGINT NOT NULL,
	updated_ms BIGINT NOT NULL
);

-- settings holds single values: the token secret ("token_secret", hex).
CREATE TABLE settings (
	name TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

-- revoked_tokens: a token's signature (its unique part) until it expires.
CREATE TABLE revoked_tokens (
	id TEXT PRIMARY KEY,
	username TEXT NOT NULL,
	expires_ms BIGINT NOT NULL
);
CREATE INDEX revoked_tokens_expires ON revoked_tokens (expires_ms);

CREATE TABLE sip_registrations (
	username TEXT NOT NULL,
	uri TEXT NOT NULL,
	transport TEXT NOT NULL,
	source TEXT NOT NULL,
	expires_ms BIGINT NOT NULL,
	PRIMARY KEY (username, uri)
);
