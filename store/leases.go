package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Room leases (migrations/0005_room_leases.sql): a conference room of a
// cluster is held by the node whose lease the store has. Every statement
// reads the time from the database's clock, so nodes whose clocks differ
// agree on when a lease lapses. On PostgreSQL the lease is shared by every
// node of the cluster (they share database.url); on SQLite it works the
// same but only for the one node that has the file, so the cluster uses
// leases on PostgreSQL only (internal/app).

// RoomLease is a room's lease as the store has it.
type RoomLease struct {
	Room, Holder string
	Epoch        int64 // the holder's start time, Unix ms
	Acquired     time.Time
	Expires      time.Time
}

// nowMS is the database's clock in Unix milliseconds, as an SQL expression.
func (d *DB) nowMS() string {
	if d.engine == Postgres {
		return `(EXTRACT(EPOCH FROM now()) * 1000)::BIGINT`
	}
	return `CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)`
}

// AcquireRoomLease takes room's lease for node (epoch: its start time)
// for ttl when no one holds it, it lapsed, or node already holds it (then
// it is renewed), in one statement; it returns the holder after it: node
// and epoch when taken, else the node holding it now.
func (d *DB) AcquireRoomLease(ctx context.Context, room, node string, epoch int64, ttl time.Duration) (holder string, holderEpoch int64, err error) {
	if room == "" || node == "" || ttl <= 0 {
		return "", 0, errors.New("store: acquire room lease: empty room or node, or no ttl")
	}
	now := d.nowMS()
	q := `INSERT INTO room_leases (room, holder, epoch, acquired_ms, expires_ms) VALUES ($1, $2, $3, ` + now + `, ` + now + ` + $4)
		ON CONFLICT (room) DO UPDATE SET holder = excluded.holder, epoch = excluded.epoch,
			acquired_ms = CASE WHEN room_leases.holder = excluded.holder AND room_leases.epoch = excluded.epoch
				THEN room_leases.acquired_ms ELSE excluded.acquired_ms END,
			expires_ms = excluded.expires_ms
		WHERE room_leases.expires_ms <= excluded.acquired_ms
			OR (room_leases.holder = excluded.holder AND room_leases.epoch = excluded.epoch)
		RETURNING holder, epoch`
	// Refused (held by another), the insert returns no row: a read tells
	// who holds it. A release between the two leaves no row: try again.
	for range 3 {
		err = d.db.QueryRowContext(ctx, q, room, node, epoch, ttl.Milliseconds()).Scan(&holder, &holderEpoch)
		if !errors.Is(err, sql.ErrNoRows) {
			break
		}
		var l RoomLease
		if l, err = d.RoomLease(ctx, room); err == nil {
			return l.Holder, l.Epoch, nil
		}
		if !errors.Is(err, ErrNotFound) {
			break
		}
	}
	if err != nil {
		return "", 0, fmt.Errorf("store: acquire room lease %s: %w", room, err)
	}
	return holder, holderEpoch, nil
}

// RenewRoomLeases extends by ttl every lease node (epoch) holds that has
// not lapsed, in one statement, and returns their rooms. A lapsed lease is
// not renewed even when no one took it: its holder must stop acting as
// the room's owner (another node may be about to take it).
func (d *DB) RenewRoomLeases(ctx context.Context, node string, epoch int64, ttl time.Duration) ([]string, error) {
	now := d.nowMS()
	rows, err := d.db.QueryContext(ctx, `UPDATE room_leases SET expires_ms = `+now+` + $3
		WHERE holder = $1 AND epoch = $2 AND expires_ms > `+now+` RETURNING room`, node, epoch, ttl.Milliseconds())
	if err != nil {
		return nil, fmt.Errorf("store: renew room leases of %s: %w", node, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var room string
		if err := rows.Scan(&room); err != nil {
			return nil, fmt.Errorf("store: renew room leases of %s: %w", node, err)
		}
		out = append(out, room)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: renew room leases of %s: %w", node, err)
	}
	return out, nil
}

// ReleaseRoomLease gives room's lease up if node (epoch) holds it; a
// lease another node holds is left alone.
func (d *DB) ReleaseRoomLease(ctx context.Context, room, node string, epoch int64) error {
	if _, err := d.db.ExecContext(ctx, `DELETE FROM room_leases WHERE room = $1 AND holder = $2 AND epoch = $3`, room, node, epoch); err != nil {
		return fmt.Errorf("store: release room lease %s: %w", room, err)
	}
	return nil
}

// ReleaseRoomLeases gives up every lease node (epoch) holds (a graceful
// stop), and forgets leases that lapsed a day ago (room names not used
// since), so the table does not grow with every room name ever used.
func (d *DB) ReleaseRoomLeases(ctx context.Context, node string, epoch int64) error {
	if _, err := d.db.ExecContext(ctx, `DELETE FROM room_leases WHERE (holder = $1 AND epoch = $2) OR expires_ms < `+d.nowMS()+` - $3`,
		node, epoch, (24 * time.Hour).Milliseconds()); err != nil {
		return fmt.Errorf("store: release room leases of %s: %w", node, err)
	}
	return nil
}

// RoomLease is room's lease as the store has it, lapsed or not
// (ErrNotFound: none).
func (d *DB) RoomLease(ctx context.Context, room string) (RoomLease, error) {
	var l RoomLease
	var acq, exp int64
	err := d.db.QueryRowContext(ctx, `SELECT room, holder, epoch, acquired_ms, expires_ms FROM room_leases WHERE room = $1`, room).
		Scan(&l.Room, &l.Holder, &l.Epoch, &acq, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return RoomLease{}, ErrNotFound
	}
	if err != nil {
		return RoomLease{}, fmt.Errorf("store: room lease %s: %w", room, err)
	}
	l.Acquired, l.Expires = fromMS(acq), fromMS(exp)
	return l, nil
}
