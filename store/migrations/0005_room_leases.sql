-- Conference room leases (docs/CLUSTER.md "Conferences"): which node of a
-- cluster holds a room. holder is the node's cluster.node, epoch its start
-- time (Unix ms: a restarted node is another holder), acquired_ms when
-- this holder took it and expires_ms when it lapses unless renewed, both
-- on the database's clock (never a node's). One row per room name; a
-- lapsed row is taken over in place.
CREATE TABLE room_leases (
	room TEXT PRIMARY KEY,
	holder TEXT NOT NULL,
	epoch BIGINT NOT NULL,
	acquired_ms BIGINT NOT NULL,
	expires_ms BIGINT NOT NULL
);
CREATE INDEX room_leases_holder ON room_leases (holder, epoch);
