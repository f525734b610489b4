-- The operator dashboard's chart samples (concurrent calls and published
-- streams), per node, so that a restart keeps the last hour.
CREATE TABLE dashboard_samples (
	node TEXT NOT NULL DEFAULT '',
	at_ms BIGINT NOT NULL,
	calls INTEGER NOT NULL,
	streams INTEGER NOT NULL,
	PRIMARY KEY (node, at_ms)
);
