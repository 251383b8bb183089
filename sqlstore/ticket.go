package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/scorebridge/scorebridge"
)

// Ticket list limits.
const (
	defaultTicketLimit = 100
	maxTicketLimit     = 1000
)

// TicketStore keeps ticket requests, what became of them, and the audit of
// every exchange with the instance. It holds no business rules: the ticket
// service in package jobs validates and decides.
type TicketStore struct {
	db *DB
}

// NewTicketStore returns the ticket store on db.
func NewTicketStore(db *DB) *TicketStore { return &TicketStore{db: db} }

// DB returns the database the store writes to.
func (s *TicketStore) DB() *DB { return s.db }

// TicketTx is the transaction new or re-queued tickets are written in. It is
// handed to the enqueue callback so the job that sends a ticket is inserted
// in the same transaction: both commit, or neither. Exactly one field is
// set: SQL on SQLite, PGX on PostgreSQL (River's drivers take those types).
type TicketTx struct {
	SQL *sql.Tx
	PGX pgx.Tx
}

// EnqueueFunc inserts the jobs for tickets inside tx.
type EnqueueFunc func(ctx context.Context, tx TicketTx, ids []string) error

// InsertTickets stores tickets as queued and calls enqueue in the same
// transaction. CreatedAt and UpdatedAt are set from the store's clock.
func (s *TicketStore) InsertTickets(ctx context.Context, tickets []*scorebridge.Ticket, enqueue EnqueueFunc) error {
	now := s.db.now()
	ids := make([]string, len(tickets))
	return s.inEnqueueTx(ctx, func(x execer) error {
		for i, t := range tickets {
			if err := s.insertTicket(ctx, x, t, now); err != nil {
				return err
			}
			ids[i] = t.ID
		}
		return nil
	}, enqueue, ids)
}

// insertTicket writes one queued ticket and its actions.
func (s *TicketStore) insertTicket(ctx context.Context, x execer, t *scorebridge.Ticket, now time.Time) error {
	t.Status = scorebridge.TicketQueued
	t.CreatedAt, t.UpdatedAt = now, now
	actions, err := json.Marshal(t.Actions)
	if err != nil {
		return fmt.Errorf("encode ticket actions: %w", err)
	}
	// assignment_group holds the group asked for (a sys_id) until the
	// first sync replaces it with the instance's display name.
	if err := x.exec(ctx, `INSERT INTO tickets (id, type, connection_id, name, description, priority, due_date, actions, requested_by, status, assignment_group, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, string(t.Type), t.ConnectionID, t.Name, t.Description, t.Priority, t.DueDate, string(actions),
		t.RequestedBy, string(t.Status), t.AssignmentGroup, s.db.timeArg(now), s.db.timeArg(now)); err != nil {
		return fmt.Errorf("insert ticket: %w", err)
	}
	// One statement per rowsPerInsert actions, not one per action: a
	// grouped rule run writes thousands.
	for start := 0; start < len(t.RecommendationIDs); start += rowsPerInsert {
		end := min(start+rowsPerInsert, len(t.RecommendationIDs))
		args := make([]any, 0, 3*(end-start))
		for pos := start; pos < end; pos++ {
			args = append(args, t.ID, t.RecommendationIDs[pos], pos)
		}
		if err := x.exec(ctx, `INSERT INTO ticket_recommendations (ticket_id, recommendation_id, position) VALUES `+valueRows(end-start, 3), args...); err != nil {
			return fmt.Errorf("insert ticket actions: %w", err)
		}
	}
	return nil
}

// rowsPerInsert bounds a multi-row INSERT well under both databases'
// limits on bound parameters.
const rowsPerInsert = 100

// valueRows is the VALUES list of n rows of cols placeholders each.
func valueRows(n, cols int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}

// RequeueTicket turns a failed ticket back to queued, clearing its error,
// and calls enqueue in the same transaction. Returns ENOTFOUND, or
// ECONFLICT when the ticket has not failed.
func (s *TicketStore) RequeueTicket(ctx context.Context, id string, enqueue EnqueueFunc) error {
	// Checked first for the not-found answer; the guarded update below
	// settles a race with another retry. (On SQLite the transaction holds
	// the only connection, so nothing else may query inside it.)
	if _, err := s.FindTicketByID(ctx, id); err != nil {
		return err
	}
	now := s.db.now()
	return s.inEnqueueTx(ctx, func(x execer) error {
		n, err := x.execCount(ctx, `UPDATE tickets SET status = ?, error = '', updated_at = ? WHERE id = ? AND status = ?`,
			string(scorebridge.TicketQueued), s.db.timeArg(now), id, string(scorebridge.TicketFailed))
		if err != nil {
			return fmt.Errorf("requeue ticket: %w", err)
		}
		if n == 0 {
			return scorebridge.Errorf(scorebridge.ECONFLICT, "Only a failed ticket can be retried.")
		}
		return nil
	}, enqueue, []string{id})
}

// FindTicketByID returns ENOTFOUND if there is no such ticket.
func (s *TicketStore) FindTicketByID(ctx context.Context, id string) (*scorebridge.Ticket, error) {
	ts, err := s.findTickets(ctx, `WHERE t.id = ?`, []any{id}, 1)
	if err != nil {
		return nil, err
	} else if len(ts) == 0 {
		return nil, scorebridge.Errorf(scorebridge.ENOTFOUND, "Ticket %q not found.", id)
	}
	return ts[0], nil
}

func (s *TicketStore) findTickets(ctx context.Context, where string, args []any, limit int) ([]*scorebridge.Ticket, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return s.findTicketsTx(ctx, tx, where, args, "t.created_at DESC, t.id", limit)
}

// findTicketsTx reads the tickets a WHERE clause selects, in order, with
// their actions and their state names as the center shows them.
func (s *TicketStore) findTicketsTx(ctx context.Context, tx *tx, where string, args []any, order string, limit int) ([]*scorebridge.Ticket, error) {
	rows, err := tx.QueryContext(ctx, `SELECT t.id, t.type, t.connection_id, t.name, t.description, t.priority, t.due_date, t.actions,
		t.requested_by, t.status, t.number, t.sys_id, t.url, t.state, t.state_name, t.state_class, t.assigned_to, t.assignment_group,
		t.error, t.created_at, t.updated_at, t.sent_at
		FROM tickets t `+where+` ORDER BY `+order+` LIMIT `+fmt.Sprint(limit), args...)
	if err != nil {
		return nil, fmt.Errorf("find tickets: %w", err)
	}
	defer rows.Close()
	var out []*scorebridge.Ticket
	byID := map[string]*scorebridge.Ticket{}
	for rows.Next() {
		var t scorebridge.Ticket
		var actions string
		var sentAt sql.Null[string]
		var sentAtTime sql.NullTime
		sentScan := any(&sentAt)
		if s.db.Dialect == DialectPostgres {
			sentScan = &sentAtTime
		}
		if err := rows.Scan(&t.ID, &t.Type, &t.ConnectionID, &t.Name, &t.Description, &t.Priority, &t.DueDate, &actions,
			&t.RequestedBy, &t.Status, &t.Number, &t.SysID, &t.URL, &t.State, &t.StateName, &t.StateClass, &t.AssignedTo, &t.AssignmentGroup, &t.Error,
			scanTime{&t.CreatedAt}, scanTime{&t.UpdatedAt}, sentScan); err != nil {
			return nil, fmt.Errorf("read ticket: %w", err)
		}
		if err := json.Unmarshal([]byte(actions), &t.Actions); err != nil {
			return nil, fmt.Errorf("read ticket %s actions: %w", t.ID, err)
		}
		if sentAt.Valid {
			var at time.Time
			if err := (scanTime{&at}).Scan(sentAt.V); err != nil {
				return nil, err
			}
			t.SentAt = &at
		} else if sentAtTime.Valid {
			at := sentAtTime.Time.UTC()
			t.SentAt = &at
		}
		t.RecommendationIDs = []string{}
		out = append(out, &t)
		byID[t.ID] = &t
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find tickets: %w", err)
	}
	rows.Close()
	if len(out) == 0 {
		return out, nil
	}
	conns := make([]string, 0, 1)
	for _, t := range out {
		conns = append(conns, t.ConnectionID)
	}
	namer, err := newTicketNamer(ctx, tx, conns)
	if err != nil {
		return nil, err
	}
	for _, t := range out {
		if t.Status == scorebridge.TicketSent || t.State != "" {
			t.StateName = namer.name(t.ConnectionID, t.Type, t.State, t.StateClass)
		}
	}
	// One query for every listed ticket's actions, in the order shared.
	marks := strings.TrimSuffix(strings.Repeat("?,", len(out)), ",")
	ids := make([]any, len(out))
	for i, t := range out {
		ids[i] = t.ID
	}
	rrows, err := tx.QueryContext(ctx, `SELECT ticket_id, recommendation_id FROM ticket_recommendations
		WHERE ticket_id IN (`+marks+`) ORDER BY ticket_id, position`, ids...)
	if err != nil {
		return nil, fmt.Errorf("find ticket actions: %w", err)
	}
	defer rrows.Close()
	for rrows.Next() {
		var tid, rid string
		if err := rrows.Scan(&tid, &rid); err != nil {
			return nil, fmt.Errorf("read ticket action: %w", err)
		}
		byID[tid].RecommendationIDs = append(byID[tid].RecommendationIDs, rid)
	}
	return out, rrows.Err()
}

// TicketResult is what the instance answered for a sent ticket.
type TicketResult struct {
	Number, SysID, URL, State, StateName string
}

// MarkTicketSent records the instance's record for a ticket and, in the
// same transaction, its audit event (a ticket.send with its payload): a
// ticket is never sent without the audit saying so, and an audit that cannot
// be written leaves the ticket queued for the next attempt, which adopts the
// record by its correlation id. A ticket already sent is left as it is and
// no second event is written. The event may be nil (no audit wanted).
func (s *TicketStore) MarkTicketSent(ctx context.Context, id string, r TicketResult, event *scorebridge.AuditEvent) error {
	now := s.db.now()
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE tickets SET status = ?, number = ?, sys_id = ?, url = ?, state = ?, state_name = ?, error = '', sent_at = ?, updated_at = ? WHERE id = ? AND status <> ?`,
		string(scorebridge.TicketSent), r.Number, r.SysID, r.URL, r.State, r.StateName, s.db.timeArg(now), s.db.timeArg(now), id, string(scorebridge.TicketSent))
	if err != nil {
		return fmt.Errorf("update ticket %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("update ticket %s: %w", id, err)
	} else if n == 0 {
		return nil // already sent (another attempt got there first) or gone
	}
	if event != nil {
		if err := insertAuditEvent(ctx, tx, event); err != nil {
			return fmt.Errorf("audit of ticket %s: %w", id, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// MarkTicketFailed records why a ticket cannot be made. A ticket already
// sent stays sent.
func (s *TicketStore) MarkTicketFailed(ctx context.Context, id, reason string) error {
	return s.update(ctx, id, `UPDATE tickets SET status = ?, error = ?, updated_at = ? WHERE id = ? AND status <> ?`,
		string(scorebridge.TicketFailed), reason, s.db.timeArg(s.db.now()), id, string(scorebridge.TicketSent))
}

// SetTicketWaiting records why a queued ticket is waiting (e.g. the
// connection needs authorizing again), or clears it with "".
func (s *TicketStore) SetTicketWaiting(ctx context.Context, id, reason string) error {
	return s.update(ctx, id, `UPDATE tickets SET error = ?, updated_at = ? WHERE id = ? AND status = ?`,
		reason, s.db.timeArg(s.db.now()), id, string(scorebridge.TicketQueued))
}

func (s *TicketStore) update(ctx context.Context, id, query string, args ...any) error {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("update ticket %s: %w", id, err)
	}
	return tx.Commit()
}

// AddTicketAudit appends one exchange to a ticket's audit; At is set from
// the store's clock.
func (s *TicketStore) AddTicketAudit(ctx context.Context, e *scorebridge.TicketAuditEntry) error {
	e.At = s.db.now()
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_audit (ticket_id, kind, method, path, status_code, body, at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		e.TicketID, e.Kind, e.Method, e.Path, e.StatusCode, e.Body, s.db.timeArg(e.At)); err != nil {
		return fmt.Errorf("add ticket audit: %w", err)
	}
	return tx.Commit()
}

// FindTicketAudit returns a ticket's audit, oldest first. Returns ENOTFOUND
// if there is no such ticket.
func (s *TicketStore) FindTicketAudit(ctx context.Context, id string) ([]*scorebridge.TicketAuditEntry, error) {
	if _, err := s.FindTicketByID(ctx, id); err != nil {
		return nil, err
	}
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT id, ticket_id, kind, method, path, status_code, body, at FROM ticket_audit WHERE ticket_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("find ticket audit: %w", err)
	}
	defer rows.Close()
	out := []*scorebridge.TicketAuditEntry{}
	for rows.Next() {
		var e scorebridge.TicketAuditEntry
		if err := rows.Scan(&e.ID, &e.TicketID, &e.Kind, &e.Method, &e.Path, &e.StatusCode, &e.Body, scanTime{&e.At}); err != nil {
			return nil, fmt.Errorf("read ticket audit: %w", err)
		}
		out = append(out, &e)
	}
	return out, rows.Err()
}

// CreateMayExist reports whether a create was sent (or about to be) for the
// ticket without a definite refusal (a 4xx answer) coming back: then the
// instance may hold the record already, and the sender must look it up
// before creating again.
func (s *TicketStore) CreateMayExist(ctx context.Context, id string) (bool, error) {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var sent, refused int
	if err := tx.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM ticket_audit WHERE ticket_id = ? AND kind = 'request' AND method = 'POST'),
		(SELECT COUNT(*) FROM ticket_audit WHERE ticket_id = ? AND kind = 'error' AND method = 'POST' AND status_code BETWEEN 400 AND 499)`,
		id, id).Scan(&sent, &refused); err != nil {
		return false, fmt.Errorf("read ticket audit: %w", err)
	}
	return sent > refused, nil
}
