package sqlstore

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// conflictAttempts is how many times retryConflict runs a transaction that
// PostgreSQL broke off to resolve a conflict.
const conflictAttempts = 5

// retryConflict runs fn, a whole store transaction, again when PostgreSQL
// ended it to break a deadlock (40P01) or a serialization failure (40001).
// Such a transaction was rolled back whole, nothing of it written, and the
// same work succeeds once the other transaction is through: two syncs, a
// push and a deletion check each update many tickets, and the kept counts
// their triggers move (overdue per due date, close-time buckets, the score)
// are rows every one of them touches, in the order their changes come.
// SQLite has one writer and never answers so.
func (db *DB) retryConflict(ctx context.Context, fn func() error) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = fn()
		if !isConflict(err) || attempt == conflictAttempts {
			return err
		}
		// A short, random wait, so that the two do not meet again.
		wait := time.Duration(attempt) * time.Duration(5+rand.IntN(20)) * time.Millisecond
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// isConflict reports whether err is PostgreSQL's deadlock or serialization
// failure.
func isConflict(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && (e.Code == "40P01" || e.Code == "40001")
}
