-- Call detail records: one row per call that ended.

CREATE TABLE cdr (
	id TEXT PRIMARY KEY,
	caller TEXT NOT NULL,
	callee TEXT NOT NULL,
	caller_transport TEXT NOT NULL DEFAULT '',
	callee_transport TEXT NOT NULL DEFAULT '',
	caller_codec TEXT NOT NULL DEFAULT '',
	callee_codec TEXT NOT NULL DEFAULT '',
	mode TEXT NOT NULL DEFAULT '',
	fell_back INTEGER NOT NULL DEFAULT 0,
	started_ms BIGINT NOT NULL,
	answered_ms BIGINT NOT NULL DEFAULT 0,
	ended_ms BIGINT NOT NULL,
	end_event TEXT NOT NULL,
	reason TEXT NOT NULL DEFAULT '',
	ended_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX cdr_started ON cdr (started_ms);
CREATE INDEX cdr_caller ON cdr (caller, started_ms);
CREATE INDEX cdr_callee ON cdr (callee, started_ms);
