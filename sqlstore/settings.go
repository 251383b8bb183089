package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/scorebridge/scorebridge"
)

// SettingsStore keeps the center's settings: one row per setting changed
// from its default.
type SettingsStore struct {
	db *DB
}

// NewSettingsStore returns the settings store on db.
func NewSettingsStore(db *DB) *SettingsStore { return &SettingsStore{db: db} }

var _ scorebridge.SettingsService = (*SettingsStore)(nil)

// Settings returns every stored value; the rest read as their defaults.
func (s *SettingsStore) Settings(ctx context.Context) (scorebridge.Settings, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return scorebridge.Settings{}, err
	}
	defer tx.Rollback()
	return readSettings(ctx, tx)
}

func readSettings(ctx context.Context, tx *tx) (scorebridge.Settings, error) {
	out := scorebridge.Settings{Values: map[string]string{}}
	rows, err := tx.QueryContext(ctx, `SELECT key, value, updated_at, updated_by FROM settings`)
	if err != nil {
		return out, fmt.Errorf("read settings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, v, by string
		var at time.Time
		if err := rows.Scan(&k, &v, scanTime{&at}, &by); err != nil {
			return out, fmt.Errorf("read setting: %w", err)
		}
		out.Values[k] = v
		if at.After(out.UpdatedAt) {
			out.UpdatedAt, out.UpdatedBy = at, by
		}
	}
	return out, rows.Err()
}

// UpdateSettings checks every changed value, then stores them with one
// audit event (each setting's old and new value) in one transaction.
// Values equal to what is in force change nothing and are not audited.
func (s *SettingsStore) UpdateSettings(ctx context.Context, change map[string]string) (scorebridge.Settings, error) {
	norm, err := scorebridge.NormalizeSettings(change)
	if err != nil {
		return scorebridge.Settings{}, err
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return scorebridge.Settings{}, err
	}
	defer tx.Rollback()
	cur, err := readSettings(ctx, tx)
	if err != nil {
		return cur, err
	}
	now := s.db.now()
	actor := scorebridge.ActorFromContext(ctx)
	changes := map[string]any{}
	for _, d := range scorebridge.SettingDefs {
		v, ok := norm[d.Key]
		if !ok || v == cur.Get(d.Key) {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at, updated_by) VALUES (?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			d.Key, v, s.db.timeArg(now), actor); err != nil {
			return cur, fmt.Errorf("store setting %s: %w", d.Key, err)
		}
		changes[d.Key] = map[string]string{"from": cur.Get(d.Key), "to": v}
	}
	if len(changes) > 0 {
		if err := auditInTx(ctx, tx, &scorebridge.AuditEvent{Action: scorebridge.AuditSettings, Target: "settings", Detail: changes}); err != nil {
			return cur, err
		}
	}
	out, err := readSettings(ctx, tx)
	if err != nil {
		return out, err
	}
	if err := tx.Commit(); err != nil {
		return out, fmt.Errorf("commit: %w", err)
	}
	return out, nil
}
