package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/scorebridge/scorebridge"
)

// InsertSentTickets stores tickets that were already sent (their number,
// sys_id and state set) in one transaction, without jobs or audit: the
// benchmark builds a large center this way, in batches, instead of sending
// each ticket. Each ticket's CreatedAt is kept when set.
func (s *TicketStore) InsertSentTickets(ctx context.Context, tickets []*scorebridge.Ticket) error {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ticketStmt, err := tx.PrepareContext(ctx, s.db.rebind(`INSERT INTO tickets (id, type, connection_id, name, description, priority, due_date, actions,
		requested_by, status, number, sys_id, url, state, state_name, created_at, updated_at, sent_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`))
	if err != nil {
		return fmt.Errorf("prepare ticket insert: %w", err)
	}
	defer ticketStmt.Close()
	linkStmt, err := tx.PrepareContext(ctx, s.db.rebind(`INSERT INTO ticket_recommendations (ticket_id, recommendation_id, position) VALUES (?, ?, ?)`))
	if err != nil {
		return fmt.Errorf("prepare ticket action insert: %w", err)
	}
	defer linkStmt.Close()
	now := s.db.now()
	for _, t := range tickets {
		at := now
		if !t.CreatedAt.IsZero() {
			at = t.CreatedAt
		}
		actions, err := json.Marshal(t.Actions)
		if err != nil {
			return fmt.Errorf("encode ticket actions: %w", err)
		}
		if _, err := ticketStmt.ExecContext(ctx, t.ID, string(t.Type), t.ConnectionID, t.Name, t.Description, t.Priority, t.DueDate, string(actions),
			t.RequestedBy, string(scorebridge.TicketSent), t.Number, t.SysID, t.URL, t.State, t.StateName,
			s.db.timeArg(at), s.db.timeArg(at), s.db.timeArg(at)); err != nil {
			return fmt.Errorf("insert ticket %s: %w", t.ID, err)
		}
		for pos, rid := range t.RecommendationIDs {
			if _, err := linkStmt.ExecContext(ctx, t.ID, rid, pos); err != nil {
				return fmt.Errorf("insert ticket action: %w", err)
			}
		}
	}
	return tx.Commit()
}
