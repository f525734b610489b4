-- Complete records: bytes, quality and recording of calls; conference
-- memberships; SIP legs; contacts (per-user watch lists).
-- NULL (not 0) is "not known": bytes of a p2p call, loss and jitter where
-- no RTCP or RTMFP statistics were available.

ALTER TABLE cdr ADD COLUMN caller_bytes BIGINT;
ALTER TABLE cdr ADD COLUMN callee_bytes BIGINT;
ALTER TABLE cdr ADD COLUMN loss_pct DOUBLE PRECISION;
ALTER TABLE cdr ADD COLUMN jitter_ms DOUBLE PRECISION;
ALTER TABLE cdr ADD COLUMN recording TEXT NOT NULL DEFAULT '';

-- One row per conference membership that ended.
CREATE TABLE conf_members (
	id TEXT PRIMARY KEY,
	room TEXT NOT NULL,
	member TEXT NOT NULL,
	transport TEXT NOT NULL DEFAULT '',
	codec TEXT NOT NULL DEFAULT '',
	joined_ms BIGINT NOT NULL,
	left_ms BIGINT NOT NULL,
	reason TEXT NOT NULL DEFAULT '',
	bytes BIGINT
);
CREATE INDEX conf_members_joined ON conf_members (joined_ms);
CREATE INDEX conf_members_member ON conf_members (member, joined_ms);

-- One row per SIP leg that ended (a call to or from a trunk or a phone).
CREATE TABLE sip_legs (
	id TEXT PRIMARY KEY,
	call_id TEXT NOT NULL DEFAULT '',
	sip_call_id TEXT NOT NULL DEFAULT '',
	direction TEXT NOT NULL DEFAULT '',
	peer TEXT NOT NULL,
	party TEXT NOT NULL DEFAULT '',
	codec TEXT NOT NULL DEFAULT '',
	started_ms BIGINT NOT NULL,
	answered_ms BIGINT NOT NULL DEFAULT 0,
	ended_ms BIGINT NOT NULL,
	reason TEXT NOT NULL DEFAULT '',
	bytes_in BIGINT,
	bytes_out BIGINT,
	loss_pct DOUBLE PRECISION,
	jitter_ms DOUBLE PRECISION
);
CREATE INDEX sip_legs_started ON sip_legs (started_ms);

-- contact_lists has a row for every user who set a list (even empty), so
-- "no list" (everyone, as before contacts existed) differs from "nobody".
CREATE TABLE contact_lists (
	owner TEXT PRIMARY KEY,
	updated_ms BIGINT NOT NULL
);
CREATE TABLE contacts (
	owner TEXT NOT NULL,
	contact TEXT NOT NULL,
	PRIMARY KEY (owner, contact)
);
