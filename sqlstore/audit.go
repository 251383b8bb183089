package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/scorebridge/scorebridge"
)

// AuditStore keeps the audit log, append-only: nothing here updates or
// deletes an event.
type AuditStore struct {
	db *DB
}

var _ scorebridge.AuditService = (*AuditStore)(nil)

// NewAuditStore returns the audit store on db.
func NewAuditStore(db *DB) *AuditStore { return &AuditStore{db: db} }

// maxAuditText caps each text field of an event, so one caller cannot fill
// the log with a single record.
const maxAuditText = 1000

// maxAuditDetail caps the JSON of an event's detail (a ticket payload fits).
const maxAuditDetail = 64 << 10

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// RecordAuditEvent appends an event, with secrets in its detail redacted.
// Returns EINVALID when Action is empty.
func (s *AuditStore) RecordAuditEvent(ctx context.Context, e *scorebridge.AuditEvent) error {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := insertAuditEvent(ctx, tx, e); err != nil {
		return err
	}
	return tx.Commit()
}

// insertAuditEvent appends an event inside a store method's transaction,
// so a change and its audit are written together or not at all.
func insertAuditEvent(ctx context.Context, tx *tx, e *scorebridge.AuditEvent) error {
	args, err := auditArgs(ctx, tx.db, e)
	if err != nil {
		return err
	}
	if tx.db.Dialect == DialectPostgres {
		if err := tx.QueryRowContext(ctx, insertAuditSQL+` RETURNING id`, args...).Scan(&e.ID); err != nil {
			return fmt.Errorf("insert audit event: %w", err)
		}
		return nil
	}
	res, err := tx.ExecContext(ctx, insertAuditSQL, args...)
	if err != nil {
		return fmt.Errorf("insert audit event: %w", err)
	}
	e.ID, err = res.LastInsertId()
	return err
}

const insertAuditSQL = `INSERT INTO audit_events (at, actor, action, outcome, target, address, detail) VALUES (?, ?, ?, ?, ?, ?, ?)`

// auditExec appends an event inside a transaction that also queues jobs
// (an execer of either dialect's job driver).
func auditExec(ctx context.Context, db *DB, x execer, e *scorebridge.AuditEvent) error {
	if e.Address == "" {
		e.Address = scorebridge.AddressFromContext(ctx)
	}
	args, err := auditArgs(ctx, db, e)
	if err != nil {
		return err
	}
	if err := x.exec(ctx, insertAuditSQL, args...); err != nil {
		return fmt.Errorf("insert audit event: %w", err)
	}
	return nil
}

// auditArgs checks an event, fills its defaults and returns the values of
// its row.
func auditArgs(ctx context.Context, db *DB, e *scorebridge.AuditEvent) ([]any, error) {
	if e.Action == "" {
		return nil, scorebridge.Errorf(scorebridge.EINVALID, "An audit event needs an action.")
	}
	if e.At.IsZero() {
		e.At = db.now()
	}
	if e.Actor == "" {
		e.Actor = scorebridge.ActorFromContext(ctx)
	}
	if e.Outcome == "" {
		e.Outcome = scorebridge.OutcomeSuccess
	}
	e.Detail = scorebridge.RedactSecrets(e.Detail)
	detail := []byte("{}")
	if len(e.Detail) > 0 {
		var err error
		if detail, err = json.Marshal(e.Detail); err != nil {
			return nil, fmt.Errorf("audit detail: %w", err)
		}
		if len(detail) > maxAuditDetail {
			detail, _ = json.Marshal(map[string]any{"truncated": true, "bytes": len(detail)})
		}
	}
	return []any{db.timeArg(e.At), clip(e.Actor, maxAuditText), clip(e.Action, maxAuditText), clip(e.Outcome, maxAuditText),
		clip(e.Target, maxAuditText), clip(e.Address, maxAuditText), string(detail)}, nil
}

// where builds the WHERE clause of a filter.
func (s *AuditStore) where(f scorebridge.AuditFilter) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, arg any) { conds = append(conds, cond); args = append(args, arg) }
	if f.Actor != "" {
		add("actor = ?", f.Actor)
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if f.Outcome != "" {
		add("outcome = ?", f.Outcome)
	}
	if f.Address != "" {
		add("address = ?", f.Address)
	}
	if !f.Since.IsZero() {
		add("at >= ?", s.db.timeArg(f.Since))
	}
	if !f.Until.IsZero() {
		add("at < ?", s.db.timeArg(f.Until))
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// FindAuditEvents returns matching events, newest first. Returns EINVALID
// for a bad cursor.
func (s *AuditStore) FindAuditEvents(ctx context.Context, f scorebridge.AuditFilter) ([]*scorebridge.AuditEvent, string, error) {
	if err := f.Validate(); err != nil {
		return nil, "", err
	}
	limit := f.Limit
	if limit == 0 {
		limit = scorebridge.MaxAuditPage
	}
	where, args := s.where(f)
	if f.Cursor != "" {
		before, err := strconv.ParseInt(f.Cursor, 10, 64)
		if err != nil || before <= 0 {
			return nil, "", scorebridge.FieldErrorf("cursor", "The cursor %q is not one this list gave.", f.Cursor)
		}
		if where == "" {
			where = " WHERE id < ?"
		} else {
			where += " AND id < ?"
		}
		args = append(args, before)
	}
	rows, err := s.db.reader().QueryContext(ctx, s.db.rebind(`SELECT id, at, actor, action, outcome, target, address, detail FROM audit_events`+
		where+` ORDER BY id DESC LIMIT `+strconv.Itoa(limit+1)), args...)
	if err != nil {
		return nil, "", fmt.Errorf("find audit events: %w", err)
	}
	defer rows.Close()
	var out []*scorebridge.AuditEvent
	for rows.Next() {
		var e scorebridge.AuditEvent
		var detail string
		if err := rows.Scan(&e.ID, scanTime{&e.At}, &e.Actor, &e.Action, &e.Outcome, &e.Target, &e.Address, &detail); err != nil {
			return nil, "", fmt.Errorf("read audit event: %w", err)
		}
		if detail != "" && detail != "{}" {
			if err := json.Unmarshal([]byte(detail), &e.Detail); err != nil {
				return nil, "", fmt.Errorf("read audit event %d detail: %w", e.ID, err)
			}
		}
		out = append(out, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = strconv.FormatInt(out[limit-1].ID, 10)
	}
	return out, next, nil
}

// CountAuditEvents counts matching events.
func (s *AuditStore) CountAuditEvents(ctx context.Context, f scorebridge.AuditFilter) (int, error) {
	where, args := s.where(f)
	var n int
	if err := s.db.reader().QueryRowContext(ctx, s.db.rebind(`SELECT COUNT(*) FROM audit_events`+where), args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count audit events: %w", err)
	}
	return n, nil
}
