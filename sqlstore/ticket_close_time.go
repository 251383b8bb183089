package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/scorebridge/scorebridge"
)

// snDateTime is how the Table API writes a date-time value (UTC); tracking
// keeps resolved_at and closed_at as it reads them.
const snDateTime = "2006-01-02 15:04:05"

// CloseTimes returns, per category, how long the tracked tickets that were
// resolved or closed took from being opened in ServiceNow (sent) to being
// resolved (or closed, for a change request, which has no resolved state).
// A grouped ticket counts once in each category it covers.
func (s *TicketStore) CloseTimes(ctx context.Context) ([]scorebridge.CloseTime, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT sent_at, resolved_at, closed_at, actions FROM tickets
		WHERE status = 'sent' AND sent_at IS NOT NULL AND state_class IN ('resolved', 'closed')`)
	if err != nil {
		return nil, fmt.Errorf("read close times: %w", err)
	}
	defer rows.Close()
	by := map[scorebridge.Category][]time.Duration{}
	for rows.Next() {
		var sent time.Time
		var resolved, closed, actions string
		if err := rows.Scan(scanTime{&sent}, &resolved, &closed, &actions); err != nil {
			return nil, fmt.Errorf("read close time: %w", err)
		}
		end := resolved
		if end == "" {
			end = closed
		}
		done, err := time.ParseInLocation(snDateTime, end, time.UTC)
		if err != nil || done.Before(sent) {
			continue // not a time the instance wrote, or a clock gone wrong
		}
		var acts []scorebridge.TicketAction
		if err := json.Unmarshal([]byte(actions), &acts); err != nil {
			return nil, fmt.Errorf("read ticket actions: %w", err)
		}
		seen := map[scorebridge.Category]bool{}
		for _, a := range acts {
			if !seen[a.Category] {
				seen[a.Category] = true
				by[a.Category] = append(by[a.Category], done.Sub(sent))
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read close times: %w", err)
	}
	return scorebridge.CloseTimes(by), nil
}
