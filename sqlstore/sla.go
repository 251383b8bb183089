package sqlstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/scorebridge/scorebridge"
)

// SLAStore keeps the SLA: one row per value changed from DefaultSLA.
type SLAStore struct {
	db *DB
}

// NewSLAStore returns the SLA store on db.
func NewSLAStore(db *DB) *SLAStore { return &SLAStore{db: db} }

var _ scorebridge.SLAService = (*SLAStore)(nil)

// SLA returns the SLA in force.
func (s *SLAStore) SLA(ctx context.Context) (*scorebridge.SLA, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return readSLA(ctx, tx)
}

func readSLA(ctx context.Context, tx *tx) (*scorebridge.SLA, error) {
	out := scorebridge.DefaultSLA()
	rows, err := tx.QueryContext(ctx, `SELECT key, value, updated_at, updated_by FROM sla_settings`)
	if err != nil {
		return nil, fmt.Errorf("read SLA: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, v, by string
		var at time.Time
		if err := rows.Scan(&k, &v, scanTime{&at}, &by); err != nil {
			return nil, fmt.Errorf("read SLA value: %w", err)
		}
		switch {
		case k == slaGraceKey:
			out.GraceDays, _ = strconv.Atoi(v)
		case k == slaWorkNoteKey:
			out.OverdueWorkNote = v == "true"
		case len(k) == 2 && k[0] == 'p':
			p, _ := strconv.Atoi(k[1:])
			out.DueDays[p], _ = strconv.Atoi(v)
		}
		if out.UpdatedAt == nil || at.After(*out.UpdatedAt) {
			out.UpdatedAt, out.UpdatedBy = &at, by
		}
	}
	return out, rows.Err()
}

const (
	slaGraceKey    = "grace_days"
	slaWorkNoteKey = "overdue_work_note"
)

// UpdateSLA checks the update, then stores the values that change with one
// audit event (each value's old and new) in one transaction. An update
// that changes nothing writes nothing.
func (s *SLAStore) UpdateSLA(ctx context.Context, u scorebridge.SLAUpdate) (*scorebridge.SLA, error) {
	if err := u.Validate(); err != nil {
		return nil, err
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	cur, err := readSLA(ctx, tx)
	if err != nil {
		return nil, err
	}
	next := cur.Apply(u)
	now, actor := s.db.now(), scorebridge.ActorFromContext(ctx)
	changes := map[string]any{}
	set := func(key, name, from, to string) error {
		if from == to {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sla_settings (key, value, updated_at, updated_by) VALUES (?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			key, to, s.db.timeArg(now), actor); err != nil {
			return fmt.Errorf("store SLA %s: %w", name, err)
		}
		changes[name] = map[string]string{"from": from, "to": to}
		return nil
	}
	for _, p := range scorebridge.SLAPriorities {
		if err := set("p"+strconv.Itoa(p), "dueDays."+strconv.Itoa(p), strconv.Itoa(cur.DueDays[p]), strconv.Itoa(next.DueDays[p])); err != nil {
			return nil, err
		}
	}
	if err := set(slaGraceKey, "graceDays", strconv.Itoa(cur.GraceDays), strconv.Itoa(next.GraceDays)); err != nil {
		return nil, err
	}
	if err := set(slaWorkNoteKey, "overdueWorkNote", strconv.FormatBool(cur.OverdueWorkNote), strconv.FormatBool(next.OverdueWorkNote)); err != nil {
		return nil, err
	}
	if len(changes) > 0 {
		if err := auditInTx(ctx, tx, &scorebridge.AuditEvent{Action: scorebridge.AuditSLA, Target: "sla", Detail: changes}); err != nil {
			return nil, err
		}
	}
	out, err := readSLA(ctx, tx)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return out, nil
}
