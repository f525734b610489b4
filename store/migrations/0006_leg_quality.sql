-- The quality of every leg of a call: what a SIP phone's RTCP reports say
-- of the audio sent to it, and one row per WHIP or WHEP session that
-- connected (a web page's call audio, or any browser publishing or
-- playing a stream). NULL is "not known": a phone that sent no report,
-- the pion engine's sessions, a session that never got media.

ALTER TABLE sip_legs ADD COLUMN loss_out_pct DOUBLE PRECISION;
ALTER TABLE sip_legs ADD COLUMN rtt_ms DOUBLE PRECISION;

CREATE TABLE webrtc_sessions (
	id TEXT PRIMARY KEY,
	call_id TEXT NOT NULL DEFAULT '',
	stream TEXT NOT NULL,
	direction TEXT NOT NULL,
	addr TEXT NOT NULL DEFAULT '',
	codec TEXT NOT NULL DEFAULT '',
	engine TEXT NOT NULL DEFAULT '',
	started_ms BIGINT NOT NULL,
	ended_ms BIGINT NOT NULL,
	reason TEXT NOT NULL DEFAULT '',
	packets_in BIGINT,
	packets_out BIGINT,
	loss_in_pct DOUBLE PRECISION,
	loss_out_pct DOUBLE PRECISION,
	jitter_ms DOUBLE PRECISION,
	rtt_ms DOUBLE PRECISION
);
CREATE INDEX webrtc_sessions_started ON webrtc_sessions (started_ms);
CREATE INDEX webrtc_sessions_call ON webrtc_sessions (call_id);
