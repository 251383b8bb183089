package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/scorebridge/scorebridge"
)

// IdempotencyStore keeps idempotency keys and the first answer given to
// each, for scorebridge.IdempotencyKeyTTL.
type IdempotencyStore struct {
	db *DB
}

var _ scorebridge.IdempotencyService = (*IdempotencyStore)(nil)

// NewIdempotencyStore returns the idempotency store on db.
func NewIdempotencyStore(db *DB) *IdempotencyStore { return &IdempotencyStore{db: db} }

// ClaimIdempotencyKey claims a free key or returns what it holds. Expired
// keys, of every principal, are deleted on the way, so the table holds one
// day of keys at most.
func (s *IdempotencyStore) ClaimIdempotencyKey(ctx context.Context, principal, key, fingerprint string) (*scorebridge.IdempotencyRecord, error) {
	now := s.db.now()
	tx, err := s.db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at < ?`, s.db.timeArg(now.Add(-scorebridge.IdempotencyKeyTTL))); err != nil {
		return nil, fmt.Errorf("expire idempotency keys: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE principal = ? AND idem_key = ? AND status = 0 AND created_at < ?`,
		principal, key, s.db.timeArg(now.Add(-scorebridge.IdempotencyClaimTTL))); err != nil {
		return nil, fmt.Errorf("free a stale idempotency key: %w", err)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (principal, idem_key, fingerprint, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (principal, idem_key) DO NOTHING`, principal, key, fingerprint, s.db.timeArg(now))
	if err != nil {
		return nil, fmt.Errorf("claim idempotency key: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, fmt.Errorf("claim idempotency key: %w", err)
	} else if n == 1 {
		return nil, tx.Commit()
	}
	var rec scorebridge.IdempotencyRecord
	var resp scorebridge.IdempotentResponse
	err = tx.QueryRowContext(ctx, `SELECT fingerprint, status, content_type, location, body FROM idempotency_keys WHERE principal = ? AND idem_key = ?`,
		principal, key).Scan(&rec.Fingerprint, &resp.Status, &resp.ContentType, &resp.Location, &resp.Body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("claim idempotency key: the key vanished while claimed")
	} else if err != nil {
		return nil, fmt.Errorf("read idempotency key: %w", err)
	}
	if resp.Status != 0 {
		rec.Response = &resp
	}
	return &rec, tx.Commit()
}

// CompleteIdempotencyKey keeps the answer of the claiming request.
func (s *IdempotencyStore) CompleteIdempotencyKey(ctx context.Context, principal, key string, resp *scorebridge.IdempotentResponse) error {
	if resp.Status <= 0 {
		return fmt.Errorf("complete idempotency key: status %d", resp.Status)
	}
	body := resp.Body
	if body == nil {
		body = []byte{}
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE idempotency_keys SET status = ?, content_type = ?, location = ?, body = ? WHERE principal = ? AND idem_key = ? AND status = 0`,
		resp.Status, resp.ContentType, resp.Location, body, principal, key); err != nil {
		return fmt.Errorf("complete idempotency key: %w", err)
	}
	return tx.Commit()
}

// ReleaseIdempotencyKey deletes a key still claimed.
func (s *IdempotencyStore) ReleaseIdempotencyKey(ctx context.Context, principal, key string) error {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE principal = ? AND idem_key = ? AND status = 0`, principal, key); err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return tx.Commit()
}
