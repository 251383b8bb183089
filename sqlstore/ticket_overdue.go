package sqlstore

import (
	"context"
	"fmt"

	"github.com/scorebridge/scorebridge"
)

// overdueWhere selects the tickets overdue for a due date bound: sent, still
// open in ServiceNow (or not yet tracked), with a due date before the bound.
// Migration 0220's ticket_due_counts keeps the same condition.
const overdueWhere = `status = 'sent' AND due_date <> '' AND due_date < ? AND state_class IN ('', 'open')`

// maxOverduePerCheck bounds one overdue check; the next check takes the
// rest.
const maxOverduePerCheck = 500

// MarkOverdue finds the tickets overdue for before (see SLA.OverdueBefore)
// that were not found so before, marks them with one ticket.overdue audit
// event, and, when workNote is set, queues their work-note jobs with
// enqueue: all in one transaction, so each ticket is found overdue (and
// noted) once, even with several replicas checking.
func (s *TicketStore) MarkOverdue(ctx context.Context, before string, workNote bool, enqueue EnqueueFunc) ([]scorebridge.OverdueTicket, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, number, type, due_date FROM tickets WHERE `+overdueWhere+` AND overdue_at IS NULL
		ORDER BY due_date, id LIMIT `+fmt.Sprint(maxOverduePerCheck), before)
	if err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("find overdue tickets: %w", err)
	}
	var found []scorebridge.OverdueTicket
	for rows.Next() {
		var o scorebridge.OverdueTicket
		if err := rows.Scan(&o.TicketID, &o.Number, &o.Type, &o.DueDate); err != nil {
			rows.Close()
			tx.Rollback()
			return nil, fmt.Errorf("read overdue ticket: %w", err)
		}
		o.WorkNote = workNote
		found = append(found, o)
	}
	err = rows.Err()
	rows.Close()
	tx.Rollback()
	if err != nil || len(found) == 0 {
		return nil, err
	}
	now := s.db.now()
	var marked []scorebridge.OverdueTicket
	var ids []string
	err = s.inEnqueueTx(ctx, func(x execer) error {
		marked, ids = nil, nil
		for _, o := range found {
			// Guarded: a ticket another replica marked meanwhile is not
			// marked (or noted) twice.
			n, err := x.execCount(ctx, `UPDATE tickets SET overdue_at = ? WHERE id = ? AND overdue_at IS NULL`, s.db.timeArg(now), o.TicketID)
			if err != nil {
				return fmt.Errorf("mark ticket overdue: %w", err)
			}
			if n == 1 {
				marked = append(marked, o)
				ids = append(ids, o.TicketID)
			}
		}
		if len(marked) == 0 {
			return nil
		}
		return auditExec(ctx, s.db, x, &scorebridge.AuditEvent{Action: scorebridge.AuditTicketOverdue, Target: "tickets",
			Detail: map[string]any{"tickets": ids, "dueBefore": before, "workNote": workNote}})
	}, func(ctx context.Context, tx TicketTx, _ []string) error {
		if !workNote || len(ids) == 0 {
			return nil
		}
		return enqueue(ctx, tx, ids)
	}, nil)
	if err != nil {
		return nil, err
	}
	return marked, nil
}

// CountOverdue counts the tickets overdue for before, whether or not the
// periodic check has marked them yet: the home page's card. It sums the
// open tickets per due date the triggers keep (migration 0220), a row per
// day, not per ticket.
func (s *TicketStore) CountOverdue(ctx context.Context, before string) (int, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(tickets), 0) FROM ticket_due_counts WHERE due_date < ?`, before).Scan(&n); err != nil {
		return 0, fmt.Errorf("count overdue tickets: %w", err)
	}
	return n, nil
}

// OverdueNoted reports whether a ticket's overdue work note reached
// ServiceNow already.
func (s *TicketStore) OverdueNoted(ctx context.Context, id string) (bool, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM tickets WHERE id = ? AND overdue_noted_at IS NOT NULL`, id).Scan(&n); err != nil {
		return false, fmt.Errorf("read overdue note: %w", err)
	}
	return n > 0, nil
}

// MarkOverdueNoted records that the ticket's overdue work note was added,
// with its audit event, in one transaction.
func (s *TicketStore) MarkOverdueNoted(ctx context.Context, id string, event *scorebridge.AuditEvent) error {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE tickets SET overdue_noted_at = ? WHERE id = ? AND overdue_noted_at IS NULL`, s.db.timeArg(s.db.now()), id)
	if err != nil {
		return fmt.Errorf("mark overdue note: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	if err := auditInTx(ctx, tx, event); err != nil {
		return err
	}
	return tx.Commit()
}
