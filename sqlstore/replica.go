package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// RescuedJobError is the entry a rescue appends to a job's errors, as
// River's own rescuer appends one of its own.
const RescuedJobError = "Job rescued: the replica working it is gone"

// riverTimeFormat is how River's SQLite driver writes its timestamps; its
// fetch compares scheduled_at as text, so a rescue writes the same form.
const riverTimeFormat = "2006-01-02 15:04:05.000"

// ReplicaStore keeps the heartbeats of the replicas working jobs, and takes
// back the running jobs of a replica that has stopped: it sets River's jobs
// (river_job, in the same database) available again, with an entry in
// their errors like River's rescuer writes.
type ReplicaStore struct{ db *DB }

// NewReplicaStore returns a replica store on db.
func NewReplicaStore(db *DB) *ReplicaStore { return &ReplicaStore{db: db} }

// Beat records that replica is alive now: in the database's time on
// PostgreSQL, so the replicas' clocks need not agree.
func (s *ReplicaStore) Beat(ctx context.Context, replica string) error {
	var err error
	if s.db.Dialect == DialectPostgres {
		_, err = s.db.SQL.ExecContext(ctx, `INSERT INTO replicas (id, seen_at) VALUES ($1, now())
			ON CONFLICT (id) DO UPDATE SET seen_at = now()`, replica)
	} else {
		// The real clock, not db.Now: it is compared with the real time.
		_, err = s.db.SQL.ExecContext(ctx, `INSERT INTO replicas (id, seen_at) VALUES (?, ?)
			ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at`, replica, s.db.timeArg(time.Now()))
	}
	if err != nil {
		return fmt.Errorf("heartbeat of replica %s: %w", replica, err)
	}
	return nil
}

// Leave deletes the replica's heartbeat: it stopped cleanly, with no job
// left running.
func (s *ReplicaStore) Leave(ctx context.Context, replica string) error {
	if _, err := s.db.SQL.ExecContext(ctx, s.db.rebind(`DELETE FROM replicas WHERE id = ?`), replica); err != nil {
		return fmt.Errorf("remove the heartbeat of replica %s: %w", replica, err)
	}
	return nil
}

// ForgetReplicas deletes the heartbeats older than silence, so replicas that
// were killed do not pile up. Their jobs were rescued long before.
func (s *ReplicaStore) ForgetReplicas(ctx context.Context, silence time.Duration) error {
	var err error
	if s.db.Dialect == DialectPostgres {
		_, err = s.db.SQL.ExecContext(ctx, `DELETE FROM replicas WHERE seen_at < now() - $1::bigint * interval '1 microsecond'`,
			silence.Microseconds())
	} else {
		_, err = s.db.SQL.ExecContext(ctx, `DELETE FROM replicas WHERE seen_at < ?`, s.db.timeArg(time.Now().Add(-silence)))
	}
	if err != nil {
		return fmt.Errorf("forget silent replicas: %w", err)
	}
	return nil
}

// RescueJobs makes available again, at once, every running job whose last
// attempt is a replica's whose heartbeat is older than horizon, and returns
// how many it rescued of each replica. Jobs at their last attempt or asked
// to cancel are left to River's rescuer, which discards or cancels them; so
// are jobs of a replica with no heartbeat at all (a replica of a version
// before heartbeats, during an upgrade, may still be working them). It is
// one statement, safe to run on every replica at once.
func (s *ReplicaStore) RescueJobs(ctx context.Context, horizon time.Duration) (map[string]int, error) {
	if s.db.Dialect == DialectPostgres {
		return s.rescue(ctx, `UPDATE river_job AS j
			SET state = 'available', scheduled_at = now(),
			    errors = array_append(j.errors, jsonb_build_object('at', now(), 'attempt', j.attempt, 'error', $1::text, 'trace', ''))
			FROM replicas AS r
			WHERE j.state = 'running'
			  AND r.id = j.attempted_by[cardinality(j.attempted_by)]
			  AND r.seen_at < now() - $2::bigint * interval '1 microsecond'
			  AND j.attempt < j.max_attempts
			  AND j.metadata->>'cancel_attempted_at' IS NULL
			RETURNING r.id`, RescuedJobError, horizon.Microseconds())
	}
	return s.rescueSQLite(ctx, `json_extract(attempted_by, '$[#-1]') IN (SELECT id FROM replicas WHERE seen_at < ?)`,
		`json_extract(attempted_by, '$[#-1]')`, s.db.timeArg(time.Now().Add(-horizon)))
}

// RescueJobsNotBy makes available again, at once, every running job whose
// last attempt is not replica's, and returns how many it rescued of each
// replica ("" for a job with no attempt recorded). It is for SQLite only,
// at the start of the one center a file has (LockExclusive): every other
// attempt belongs to a process that is gone. Jobs at their last attempt or
// asked to cancel are left to River's rescuer.
func (s *ReplicaStore) RescueJobsNotBy(ctx context.Context, replica string) (map[string]int, error) {
	if s.db.Dialect != DialectSQLite {
		return nil, errors.New("rescue the jobs of every other replica: only on SQLite, where one center runs")
	}
	return s.rescueSQLite(ctx, `coalesce(json_extract(attempted_by, '$[#-1]'), '') <> ?`,
		`coalesce(json_extract(attempted_by, '$[#-1]'), '')`, replica)
}

// rescueSQLite makes available again the running jobs that match which
// (with its one argument), except those River's rescuer keeps (at their
// last attempt, or asked to cancel), and returns the replica of each, as
// from names it.
func (s *ReplicaStore) rescueSQLite(ctx context.Context, which, from string, arg any) (map[string]int, error) {
	now := time.Now().UTC()
	return s.rescue(ctx, `UPDATE river_job
		SET state = 'available', scheduled_at = ?,
		    errors = jsonb(json_insert(json(coalesce(errors, jsonb('[]'))), '$[#]',
		                   json_object('at', ?, 'attempt', attempt, 'error', ?, 'trace', '')))
		WHERE state = 'running'
		  AND `+which+`
		  AND attempt < max_attempts
		  AND json_extract(metadata, '$.cancel_attempted_at') IS NULL
		RETURNING `+from,
		now.Format(riverTimeFormat), now.Format(time.RFC3339Nano), RescuedJobError, arg)
}

// rescue runs a rescue statement that returns one row per job, the replica
// it was taken from, and counts them by replica.
func (s *ReplicaStore) rescue(ctx context.Context, query string, args ...any) (map[string]int, error) {
	rows, err := s.db.SQL.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("rescue jobs: %w", err)
	}
	defer rows.Close()
	rescued := map[string]int{}
	for rows.Next() {
		var replica string
		if err := rows.Scan(&replica); err != nil {
			return nil, fmt.Errorf("rescue jobs: %w", err)
		}
		rescued[replica]++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rescue jobs: %w", err)
	}
	return rescued, nil
}
