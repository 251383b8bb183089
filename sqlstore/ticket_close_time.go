package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/scorebridge/scorebridge"
)

// CloseTimes returns, per category, how long the tracked tickets that were
// resolved or closed took from being sent to being resolved (or closed, for
// a change request, which has no resolved state). A grouped ticket counts
// once in each category it covers. The buckets are kept by triggers as
// tickets change (migration 0220), so this reads a few rows however many
// tickets there are.
func (s *TicketStore) CloseTimes(ctx context.Context) ([]scorebridge.CloseTime, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT category, bucket, tickets FROM ticket_close_buckets WHERE tickets > 0`)
	if err != nil {
		return nil, fmt.Errorf("read close times: %w", err)
	}
	defer rows.Close()
	var buckets []scorebridge.CloseBucket
	for rows.Next() {
		var b scorebridge.CloseBucket
		var seconds int64
		if err := rows.Scan(&b.Category, &seconds, &b.Tickets); err != nil {
			return nil, fmt.Errorf("read close time: %w", err)
		}
		b.Lower = time.Duration(seconds) * time.Second
		buckets = append(buckets, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read close times: %w", err)
	}
	return scorebridge.CloseTimesFromBuckets(buckets), nil
}
