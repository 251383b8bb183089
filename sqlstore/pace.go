package sqlstore

import (
	"context"
	"fmt"
	"time"
)

// PaceStore keeps the pace towards each ServiceNow connection in the
// database, so every replica draws its request slots from the same row and
// the fleet together keeps to the instance's rate. Each slot is taken by one
// atomic statement: on PostgreSQL the row lock orders concurrent replicas
// and the server's clock is the one clock they share; on SQLite the single
// writer orders them and the machine's clock is the only one.
type PaceStore struct {
	db *DB
}

// NewPaceStore returns the pace store on db.
func NewPaceStore(db *DB) *PaceStore { return &PaceStore{db: db} }

// ReservePace takes the connection's next request slot: interval after the
// slot before it, or now when that moment has passed (the bucket is one
// deep, so a quiet spell saves nothing up). It returns how long the caller
// waits before its slot begins, zero for at once.
func (s *PaceStore) ReservePace(ctx context.Context, connectionID string, interval time.Duration) (time.Duration, error) {
	step := max(interval, 0).Microseconds()
	var waitMicros int64
	var err error
	if s.db.Dialect == DialectPostgres {
		// now() is the statement's one moment, so the slot and the wait are
		// read against the same instant.
		err = s.db.SQL.QueryRowContext(ctx, `INSERT INTO servicenow_pace AS p (connection_id, next_at)
			VALUES ($1, now() + $2::bigint * interval '1 microsecond')
			ON CONFLICT (connection_id) DO UPDATE SET next_at = greatest(p.next_at, now()) + $2::bigint * interval '1 microsecond'
			RETURNING (extract(epoch FROM p.next_at - now()) * 1000000)::bigint - $2::bigint`,
			connectionID, step).Scan(&waitMicros)
	} else {
		// The real clock, not db.Now: the wait is a real wait.
		now := time.Now().UnixMicro()
		err = s.db.SQL.QueryRowContext(ctx, `INSERT INTO servicenow_pace (connection_id, next_at) VALUES (?, ? + ?)
			ON CONFLICT (connection_id) DO UPDATE SET next_at = max(next_at, ?) + ?
			RETURNING next_at - ? - ?`,
			connectionID, now, step, now, step, step, now).Scan(&waitMicros)
	}
	if err != nil {
		return 0, fmt.Errorf("take a request slot for connection %s: %w", connectionID, err)
	}
	return max(time.Duration(waitMicros)*time.Microsecond, 0), nil
}

// PausePace holds every request of the connection back for d from now, on
// every replica (the instance answered 429 with Retry-After). A pause never
// shortens one already in place.
func (s *PaceStore) PausePace(ctx context.Context, connectionID string, d time.Duration) error {
	micros := max(d, 0).Microseconds()
	var err error
	if s.db.Dialect == DialectPostgres {
		_, err = s.db.SQL.ExecContext(ctx, `INSERT INTO servicenow_pace AS p (connection_id, next_at)
			VALUES ($1, now() + $2::bigint * interval '1 microsecond')
			ON CONFLICT (connection_id) DO UPDATE SET next_at = greatest(p.next_at, now() + $2::bigint * interval '1 microsecond')`,
			connectionID, micros)
	} else {
		until := time.Now().UnixMicro() + micros
		_, err = s.db.SQL.ExecContext(ctx, `INSERT INTO servicenow_pace (connection_id, next_at) VALUES (?, ?)
			ON CONFLICT (connection_id) DO UPDATE SET next_at = max(next_at, ?)`, connectionID, until, until)
	}
	if err != nil {
		return fmt.Errorf("pause requests to connection %s: %w", connectionID, err)
	}
	return nil
}
