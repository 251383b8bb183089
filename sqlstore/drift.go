package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/scorebridge/scorebridge"
)

// DriftStore keeps drift: tickets that finished while their action's
// control is not achieved, what was done about each (once per drift), the
// new linked tickets that follow them, and requests to resolve tickets
// whose action was completed.
type DriftStore struct {
	db      *DB
	tickets *TicketStore
}

// NewDriftStore returns the drift store on db.
func NewDriftStore(db *DB) *DriftStore {
	return &DriftStore{db: db, tickets: NewTicketStore(db)}
}

// StartDrift marks a ticket as drifted for reason, unless it already is.
// It reports whether this began a new drift: only then does the drift
// policy act, so a drift is acted on once however often it is seen.
func (s *DriftStore) StartDrift(ctx context.Context, ticketID string, reason scorebridge.DriftReason) (bool, error) {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE tickets SET drift = 1, drift_at = ?, drift_reason = ?, drift_handling = '', drift_handled_by = '', drift_handled_at = NULL
		WHERE id = ? AND drift = 0 AND followed_by_ticket_id = ''`, s.db.timeArg(s.db.now()), string(reason), ticketID)
	if err != nil {
		return false, fmt.Errorf("start drift: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, tx.Commit()
}

// driftColumns are what a drift list row reads, from tickets t,
// ticket_recommendations tr and recommendations r.
const driftColumns = `tr.recommendation_id, COALESCE(r.title, ''), t.id, t.type, t.number, t.url, t.state_name, t.drift_reason,
	t.drift_at, t.drift_handling, t.drift_handled_by, t.drift_handled_at, t.followed_by_ticket_id`

const driftFrom = ` FROM tickets t JOIN ticket_recommendations tr ON tr.ticket_id = t.id
	LEFT JOIN recommendations r ON r.id = tr.recommendation_id WHERE t.drift = 1`

func scanDrift(rows *sql.Rows) (*scorebridge.DriftItem, error) {
	var d scorebridge.DriftItem
	var typ, reason, handling string
	if err := rows.Scan(&d.ActionID, &d.ActionTitle, &d.TicketID, &typ, &d.TicketNumber, &d.TicketURL, &d.StateName, &reason,
		scanTime{&d.At}, &handling, &d.HandledBy, scanNullTime{&d.HandledAt}, &d.FollowUpTicketID); err != nil {
		return nil, fmt.Errorf("read drift: %w", err)
	}
	d.TicketType, d.Reason, d.Handling = scorebridge.TicketType(typ), scorebridge.DriftReason(reason), scorebridge.DriftHandling(handling)
	return &d, nil
}

// MaxDriftPage caps one page of the drift list.
const MaxDriftPage = 200

// FindDrift returns drifted actions, newest drift first, one row per
// action of each drifted ticket, and the cursor of the next page.
func (s *DriftStore) FindDrift(ctx context.Context, f scorebridge.DriftFilter) ([]*scorebridge.DriftItem, string, error) {
	limit := f.Limit
	if limit <= 0 || limit > MaxDriftPage {
		limit = 50
	}
	where, args := "", []any{}
	if f.ActionID != "" {
		where += ` AND tr.recommendation_id = ?`
		args = append(args, f.ActionID)
	}
	if f.Cursor != "" {
		at, ticket, action, err := parseDriftCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		where += ` AND (t.drift_at < ? OR (t.drift_at = ? AND (t.id > ? OR (t.id = ? AND tr.recommendation_id > ?))))`
		args = append(args, s.db.timeArg(at), s.db.timeArg(at), ticket, ticket, action)
	}
	args = append(args, limit+1)
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, "", err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT `+driftColumns+driftFrom+where+` ORDER BY t.drift_at DESC, t.id, tr.recommendation_id LIMIT ?`, args...)
	if err != nil {
		return nil, "", fmt.Errorf("find drift: %w", err)
	}
	defer rows.Close()
	out := []*scorebridge.DriftItem{}
	for rows.Next() {
		d, err := scanDrift(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = last.At.UTC().Format(time.RFC3339Nano) + "|" + last.TicketID + "|" + last.ActionID
	}
	return out, next, nil
}

// CountDrift counts the drifted tickets, up to scorebridge.MaxDriftCount:
// the subquery reads at most one more entry of the tickets_drift_list
// index, whatever the number of tickets.
func (s *DriftStore) CountDrift(ctx context.Context) (scorebridge.DriftCount, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return scorebridge.DriftCount{}, err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM tickets WHERE drift = 1 LIMIT ?) d`, scorebridge.MaxDriftCount+1).Scan(&n); err != nil {
		return scorebridge.DriftCount{}, fmt.Errorf("count drift: %w", err)
	}
	if n > scorebridge.MaxDriftCount {
		return scorebridge.DriftCount{Tickets: scorebridge.MaxDriftCount, More: true}, nil
	}
	return scorebridge.DriftCount{Tickets: n}, nil
}

func parseDriftCursor(c string) (time.Time, string, string, error) {
	parts := strings.SplitN(c, "|", 3)
	if len(parts) == 3 {
		if at, err := time.Parse(time.RFC3339Nano, parts[0]); err == nil {
			return at, parts[1], parts[2], nil
		}
	}
	return time.Time{}, "", "", scorebridge.FieldErrorf("cursor", "cursor %q is not one this list gave", c)
}

// FindActionDrift returns the action's latest drift. Returns ENOTFOUND when
// the action has no drifted ticket.
func (s *DriftStore) FindActionDrift(ctx context.Context, actionID string) (*scorebridge.DriftItem, error) {
	items, _, err := s.FindDrift(ctx, scorebridge.DriftFilter{ActionID: actionID, Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, scorebridge.Errorf(scorebridge.ENOTFOUND, "The action %q has no drifted ticket.", actionID)
	}
	return items[0], nil
}

// HandleDrift records that the drift of ticketID is being acted on (by a
// person or "policy"), once: it returns ECONFLICT when the ticket is no
// longer drifted or its drift was acted on already. With followUp, the new
// ticket is stored linked to the drifted one, whose drift it takes over.
// enqueue queues the job (the follow-up's creation, or the ticket's
// reopening) and the audit event is written, all in one transaction.
func (s *DriftStore) HandleDrift(ctx context.Context, ticketID string, h scorebridge.DriftHandling, by string, followUp *scorebridge.Ticket, enqueue EnqueueFunc) error {
	now := s.db.now()
	jobIDs := []string{ticketID}
	if followUp != nil {
		jobIDs = []string{followUp.ID}
	}
	return s.tickets.inEnqueueTx(ctx, func(x execer) error {
		n, err := x.execCount(ctx, `UPDATE tickets SET drift_handling = ?, drift_handled_by = ?, drift_handled_at = ?
			WHERE id = ? AND drift = 1 AND drift_handling = ''`, string(h), by, s.db.timeArg(now), ticketID)
		if err != nil {
			return fmt.Errorf("record drift handling: %w", err)
		}
		if n == 0 {
			return scorebridge.Errorf(scorebridge.ECONFLICT, "This drift was acted on already (or its ticket is no longer drifted).")
		}
		detail := map[string]any{"handling": string(h), "by": by}
		if followUp != nil {
			if err := s.tickets.insertTicket(ctx, x, followUp, now); err != nil {
				return err
			}
			if err := x.exec(ctx, `UPDATE tickets SET follows_ticket_id = ? WHERE id = ?`, ticketID, followUp.ID); err != nil {
				return fmt.Errorf("link follow-up ticket: %w", err)
			}
			// The new ticket carries the work on: the finished one is no
			// longer listed as drift.
			if err := x.exec(ctx, `UPDATE tickets SET followed_by_ticket_id = ?, drift = 0 WHERE id = ?`, followUp.ID, ticketID); err != nil {
				return fmt.Errorf("link drifted ticket: %w", err)
			}
			detail["followUpTicketId"] = followUp.ID
		}
		return auditExec(ctx, s.db, x, &scorebridge.AuditEvent{Action: scorebridge.AuditDrift, Target: ticketID, Detail: detail})
	}, enqueue, jobIDs)
}

// ParentSysID returns the ServiceNow sys_id of the ticket a follow-up
// ticket follows, "" when it follows none.
func (s *DriftStore) ParentSysID(ctx context.Context, ticketID string) (string, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	var id string
	err = tx.QueryRowContext(ctx, `SELECT p.sys_id FROM tickets t JOIN tickets p ON p.id = t.follows_ticket_id WHERE t.id = ?`, ticketID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("find parent ticket: %w", err)
	}
	return id, nil
}

// RegressionDrift is a ticket whose action's control regressed after the
// ticket finished.
type RegressionDrift struct {
	TicketID string
	ActionID string
}

// FindRegressionDrift returns the finished, not drifted tickets of
// regressed actions, when the ticket is the action's latest and the
// regression came after the ticket's last drift: each regression is found
// once.
func (s *DriftStore) FindRegressionDrift(ctx context.Context) ([]RegressionDrift, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT t.id, r.id FROM recommendations r
		JOIN ticket_recommendations tr ON tr.recommendation_id = r.id
		JOIN tickets t ON t.id = tr.ticket_id
		WHERE r.regressed_at IS NOT NULL AND r.retired_at IS NULL
		  AND t.status = ? AND t.state_class IN (?, ?) AND t.drift = 0
		  AND (t.drift_at IS NULL OR t.drift_at < r.regressed_at)
		  AND NOT EXISTS (SELECT 1 FROM ticket_recommendations tr2 JOIN tickets t2 ON t2.id = tr2.ticket_id
		                  WHERE tr2.recommendation_id = r.id AND t2.id <> t.id AND t2.status <> ? AND t2.created_at > t.created_at)
		ORDER BY r.regressed_at, t.id`,
		string(scorebridge.TicketSent), string(scorebridge.ClassResolved), string(scorebridge.ClassClosed), string(scorebridge.TicketFailed))
	if err != nil {
		return nil, fmt.Errorf("find regression drift: %w", err)
	}
	defer rows.Close()
	var out []RegressionDrift
	for rows.Next() {
		var d RegressionDrift
		if err := rows.Scan(&d.TicketID, &d.ActionID); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// RequestResolve marks the action's open tickets (sent, not finished, not
// asked before) as asked to resolve, with one audit event each, and
// queues their jobs through enqueue, in one transaction. It returns the
// tickets asked.
func (s *DriftStore) RequestResolve(ctx context.Context, actionID string, enqueue EnqueueFunc) ([]string, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT t.id FROM tickets t JOIN ticket_recommendations tr ON tr.ticket_id = t.id
		WHERE tr.recommendation_id = ? AND t.status = ? AND t.state_class IN ('', ?) AND t.resolve_requested_at IS NULL ORDER BY t.created_at, t.id`,
		actionID, string(scorebridge.TicketSent), string(scorebridge.ClassOpen))
	var ids []string
	if err == nil {
		for rows.Next() {
			var id string
			if err = rows.Scan(&id); err != nil {
				break
			}
			ids = append(ids, id)
		}
		if err == nil {
			err = rows.Err()
		}
		rows.Close()
	}
	tx.Rollback()
	if err != nil {
		return nil, fmt.Errorf("find open tickets of an action: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	now := s.db.now()
	var asked []string
	err = s.tickets.inEnqueueTx(ctx, func(x execer) error {
		for _, id := range ids {
			n, err := x.execCount(ctx, `UPDATE tickets SET resolve_requested_at = ? WHERE id = ? AND resolve_requested_at IS NULL`, s.db.timeArg(now), id)
			if err != nil {
				return fmt.Errorf("record resolve request: %w", err)
			}
			if n == 0 {
				continue
			}
			asked = append(asked, id)
			if err := auditExec(ctx, s.db, x, &scorebridge.AuditEvent{Action: scorebridge.AuditTicketResolve, Target: id,
				Detail: map[string]any{"action": actionID, "reason": "action completed"}}); err != nil {
				return err
			}
		}
		return nil
	}, func(ctx context.Context, tx TicketTx, _ []string) error {
		if len(asked) == 0 {
			return nil
		}
		return enqueue(ctx, tx, asked)
	}, ids)
	if err != nil {
		return nil, err
	}
	return asked, nil
}

// StateChangeMark is the newest state change's id (0 when there is none),
// so CompletedSince can tell which actions a piece of work completed.
func (s *DriftStore) StateChangeMark(ctx context.Context) (int64, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var n int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM state_changes`).Scan(&n); err != nil {
		return 0, fmt.Errorf("read state change mark: %w", err)
	}
	return n, nil
}

// CompletedSince returns the actions moved to Completed by a state change
// newer than mark that are still Completed.
func (s *DriftStore) CompletedSince(ctx context.Context, mark int64) ([]string, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT c.recommendation_id FROM state_changes c JOIN recommendations r ON r.id = c.recommendation_id
		WHERE c.id > ? AND c.to_state = ? AND r.state = ? ORDER BY c.recommendation_id`,
		mark, string(scorebridge.StateCompleted), string(scorebridge.StateCompleted))
	if err != nil {
		return nil, fmt.Errorf("find completed actions: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
