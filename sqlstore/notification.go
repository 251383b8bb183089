package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/secret"
)

// NotificationStore keeps notification targets, their secrets sealed with
// the Box, and the groups events are gathered into until they are sent.
type NotificationStore struct {
	db  *DB
	box *secret.Box
}

// NewNotificationStore returns the store on db; box seals the targets'
// secrets and is required to store any.
func NewNotificationStore(db *DB, box *secret.Box) *NotificationStore {
	return &NotificationStore{db: db, box: box}
}

const targetColumns = `id, name, channel, enabled, digest, events, smtp_host, smtp_port, smtp_username, smtp_password <> '',
	email_from, email_to, webhook_host, webhook_format, webhook_secret <> '', failures, last_error, last_error_at,
	last_sent_at, created_at, updated_at`

func scanTarget(row rowScanner) (*scorebridge.NotificationTarget, error) {
	var t scorebridge.NotificationTarget
	var events, to string
	if err := row.Scan(&t.ID, &t.Name, &t.Channel, &t.Enabled, &t.Digest, &events, &t.SMTPHost, &t.SMTPPort, &t.SMTPUsername,
		&t.HasSMTPPassword, &t.From, &to, &t.WebhookHost, &t.WebhookFormat, &t.HasWebhookSecret, &t.Failures, &t.LastError,
		scanNullTime{&t.LastErrorAt}, scanNullTime{&t.LastSentAt}, scanTime{&t.CreatedAt}, scanTime{&t.UpdatedAt}); err != nil {
		return nil, err
	}
	_ = json.Unmarshal([]byte(events), &t.Events)
	_ = json.Unmarshal([]byte(to), &t.To)
	if t.Events == nil {
		t.Events = []scorebridge.NotificationKind{}
	}
	return &t, nil
}

func (s *NotificationStore) seal(id, column, plain string) (string, error) {
	if plain == "" {
		return "", nil
	}
	if s.box == nil {
		return "", errors.New("notification store: no key to seal secrets with")
	}
	return s.box.Seal(plain, sealPurpose("notification_targets", id, column))
}

// CreateTarget stores t (its ID set by the caller) with its secrets sealed
// and the service's audit event in the same transaction.
func (s *NotificationStore) CreateTarget(ctx context.Context, t *scorebridge.NotificationTarget, sec scorebridge.NotificationSecrets, event *scorebridge.AuditEvent) error {
	pw, err := s.seal(t.ID, "smtp_password", sec.SMTPPassword)
	if err != nil {
		return err
	}
	u, err := s.seal(t.ID, "webhook_url", sec.WebhookURL)
	if err != nil {
		return err
	}
	ws, err := s.seal(t.ID, "webhook_secret", sec.WebhookSecret)
	if err != nil {
		return err
	}
	now := s.db.now()
	t.CreatedAt, t.UpdatedAt = now, now
	t.HasSMTPPassword, t.HasWebhookSecret = pw != "", ws != ""
	events, _ := json.Marshal(t.Events)
	to, _ := json.Marshal(t.To)
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO notification_targets (id, name, channel, enabled, digest, events,
			smtp_host, smtp_port, smtp_username, smtp_password, email_from, email_to,
			webhook_url, webhook_host, webhook_format, webhook_secret, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.Name, string(t.Channel), t.Enabled, string(t.Digest), string(events),
		t.SMTPHost, t.SMTPPort, t.SMTPUsername, pw, t.From, string(to),
		u, t.WebhookHost, string(t.WebhookFormat), ws, s.db.timeArg(now), s.db.timeArg(now)); err != nil {
		return fmt.Errorf("insert notification target: %w", err)
	}
	if err := auditInTx(ctx, tx, event); err != nil {
		return err
	}
	return tx.Commit()
}

// UpdateTarget replaces a target's settings; an empty secret keeps the
// stored one. Returns ENOTFOUND.
func (s *NotificationStore) UpdateTarget(ctx context.Context, t *scorebridge.NotificationTarget, sec scorebridge.NotificationSecrets, event *scorebridge.AuditEvent) error {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := s.db.now()
	events, _ := json.Marshal(t.Events)
	to, _ := json.Marshal(t.To)
	res, err := tx.ExecContext(ctx, `UPDATE notification_targets SET name = ?, enabled = ?, digest = ?, events = ?,
			smtp_host = ?, smtp_port = ?, smtp_username = ?, email_from = ?, email_to = ?, webhook_host = CASE WHEN ? THEN ? ELSE webhook_host END,
			webhook_format = ?, updated_at = ?
		WHERE id = ?`,
		t.Name, t.Enabled, string(t.Digest), string(events), t.SMTPHost, t.SMTPPort, t.SMTPUsername, t.From, string(to),
		sec.WebhookURL != "", t.WebhookHost, string(t.WebhookFormat), s.db.timeArg(now), t.ID)
	if err != nil {
		return fmt.Errorf("update notification target: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return scorebridge.Errorf(scorebridge.ENOTFOUND, "Notification target %q not found.", t.ID)
	}
	for column, plain := range map[string]string{"smtp_password": sec.SMTPPassword, "webhook_url": sec.WebhookURL, "webhook_secret": sec.WebhookSecret} {
		if plain == "" {
			continue
		}
		sealed, err := s.seal(t.ID, column, plain)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE notification_targets SET `+column+` = ? WHERE id = ?`, sealed, t.ID); err != nil {
			return fmt.Errorf("update notification target secret: %w", err)
		}
	}
	if err := auditInTx(ctx, tx, event); err != nil {
		return err
	}
	return tx.Commit()
}

// DeleteTarget removes a target and its groups. Returns ENOTFOUND.
func (s *NotificationStore) DeleteTarget(ctx context.Context, id string, event *scorebridge.AuditEvent) error {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM notification_groups WHERE target_id = ?`, id); err != nil {
		return fmt.Errorf("delete notification groups: %w", err)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM notification_targets WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete notification target: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return scorebridge.Errorf(scorebridge.ENOTFOUND, "Notification target %q not found.", id)
	}
	if err := auditInTx(ctx, tx, event); err != nil {
		return err
	}
	return tx.Commit()
}

// FindTargets lists every target, oldest first.
func (s *NotificationStore) FindTargets(ctx context.Context) ([]*scorebridge.NotificationTarget, error) {
	rows, err := s.db.SQL.QueryContext(ctx, `SELECT `+targetColumns+` FROM notification_targets ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("find notification targets: %w", err)
	}
	out, err := scanRows(rows, scanTarget)
	if out == nil {
		out = []*scorebridge.NotificationTarget{}
	}
	return out, err
}

// FindTarget returns ENOTFOUND for an unknown id.
func (s *NotificationStore) FindTarget(ctx context.Context, id string) (*scorebridge.NotificationTarget, error) {
	t, err := scanTarget(s.db.SQL.QueryRowContext(ctx, s.db.rebind(`SELECT `+targetColumns+` FROM notification_targets WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, scorebridge.Errorf(scorebridge.ENOTFOUND, "Notification target %q not found.", id)
	} else if err != nil {
		return nil, fmt.Errorf("find notification target: %w", err)
	}
	return t, nil
}

// TargetSecrets opens a target's secrets, for its sender only.
func (s *NotificationStore) TargetSecrets(ctx context.Context, id string) (scorebridge.NotificationSecrets, error) {
	var out scorebridge.NotificationSecrets
	var pw, u, ws string
	err := s.db.SQL.QueryRowContext(ctx, s.db.rebind(`SELECT smtp_password, webhook_url, webhook_secret FROM notification_targets WHERE id = ?`), id).Scan(&pw, &u, &ws)
	if errors.Is(err, sql.ErrNoRows) {
		return out, scorebridge.Errorf(scorebridge.ENOTFOUND, "Notification target %q not found.", id)
	} else if err != nil {
		return out, fmt.Errorf("find notification target secrets: %w", err)
	}
	for _, f := range []struct {
		sealed, column string
		into           *string
	}{{pw, "smtp_password", &out.SMTPPassword}, {u, "webhook_url", &out.WebhookURL}, {ws, "webhook_secret", &out.WebhookSecret}} {
		if f.sealed == "" {
			continue
		}
		if s.box == nil {
			return out, errors.New("notification store: no key to open secrets with")
		}
		if *f.into, err = s.box.Open(f.sealed, sealPurpose("notification_targets", id, f.column)); err != nil {
			return out, err
		}
	}
	return out, nil
}

// RecordNotification adds n to a group of every enabled target that hears
// its kind: the group of its kind, cause and the target's current period,
// made when it is the first such event. It returns the groups it made
// (those need a delivery); an event that joined a group returns nothing.
func (s *NotificationStore) RecordNotification(ctx context.Context, n scorebridge.Notification) ([]*scorebridge.NotificationGroup, error) {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT `+targetColumns+` FROM notification_targets WHERE enabled = ?`, true)
	if err != nil {
		return nil, fmt.Errorf("find notification targets: %w", err)
	}
	targets, err := scanRows(rows, scanTarget)
	if err != nil {
		return nil, fmt.Errorf("find notification targets: %w", err)
	}
	links, _ := json.Marshal(n.Links)
	if n.Links == nil {
		links = []byte("[]")
	}
	var made []*scorebridge.NotificationGroup
	for _, t := range targets {
		if !t.Hears(n.Kind) {
			continue
		}
		period := n.At.UTC().Truncate(t.Digest.Period())
		res, err := tx.ExecContext(ctx, `INSERT INTO notification_groups (target_id, kind, cause, period_start, subject, details, links, events, first_at, last_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?) ON CONFLICT (target_id, kind, cause, period_start) DO NOTHING`,
			t.ID, string(n.Kind), clip(n.Cause, 300), s.db.timeArg(period), clip(n.Subject, 300), clip(n.Details, 4000), string(links),
			s.db.timeArg(n.At), s.db.timeArg(n.At))
		if err != nil {
			return nil, fmt.Errorf("record notification: %w", err)
		}
		if k, _ := res.RowsAffected(); k == 1 {
			g, err := scanGroup(tx.QueryRowContext(ctx, `SELECT `+groupColumns+` FROM notification_groups WHERE target_id = ? AND kind = ? AND cause = ? AND period_start = ?`,
				t.ID, string(n.Kind), clip(n.Cause, 300), s.db.timeArg(period)))
			if err != nil {
				return nil, fmt.Errorf("read notification group: %w", err)
			}
			made = append(made, g)
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE notification_groups SET events = events + 1, last_at = ?
			WHERE target_id = ? AND kind = ? AND cause = ? AND period_start = ?`,
			s.db.timeArg(n.At), t.ID, string(n.Kind), clip(n.Cause, 300), s.db.timeArg(period)); err != nil {
			return nil, fmt.Errorf("record notification: %w", err)
		}
	}
	return made, tx.Commit()
}

const groupColumns = `id, target_id, kind, cause, period_start, subject, details, links, events, first_at, last_at, sent_at`

func scanGroup(row rowScanner) (*scorebridge.NotificationGroup, error) {
	var g scorebridge.NotificationGroup
	var links string
	if err := row.Scan(&g.ID, &g.TargetID, &g.Kind, &g.Cause, scanTime{&g.PeriodStart}, &g.Subject, &g.Details, &links,
		&g.Events, scanTime{&g.FirstAt}, scanTime{&g.LastAt}, scanNullTime{&g.SentAt}); err != nil {
		return nil, err
	}
	_ = json.Unmarshal([]byte(links), &g.Links)
	return &g, nil
}

// UnsentGroups returns a target's groups not yet sent: the one group id
// names, or, with id 0, those whose period started at period.
func (s *NotificationStore) UnsentGroups(ctx context.Context, targetID string, id int64, period time.Time) ([]*scorebridge.NotificationGroup, error) {
	q, args := `SELECT `+groupColumns+` FROM notification_groups WHERE target_id = ? AND sent_at IS NULL AND id = ?`, []any{targetID, id}
	if id == 0 {
		q, args = `SELECT `+groupColumns+` FROM notification_groups WHERE target_id = ? AND sent_at IS NULL AND period_start = ? ORDER BY first_at, id`,
			[]any{targetID, s.db.timeArg(period)}
	}
	rows, err := s.db.SQL.QueryContext(ctx, s.db.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("find unsent notifications: %w", err)
	}
	return scanRows(rows, scanGroup)
}

// DueGroups returns the unsent groups whose time has come by now: an
// immediate target's at once, a digest's once its period is over.
func (s *NotificationStore) DueGroups(ctx context.Context, now time.Time) ([]*scorebridge.NotificationGroup, error) {
	rows, err := s.db.SQL.QueryContext(ctx, s.db.rebind(`SELECT g.id, g.target_id, g.kind, g.cause, g.period_start, g.subject, g.details, g.links,
			g.events, g.first_at, g.last_at, g.sent_at
		FROM notification_groups g JOIN notification_targets t ON t.id = g.target_id
		WHERE g.sent_at IS NULL AND t.enabled = ?
			AND (t.digest = ? OR t.digest = ? AND g.period_start <= ? OR t.digest = ? AND g.period_start <= ?)
		ORDER BY g.id`), true, string(scorebridge.DigestImmediate),
		string(scorebridge.DigestHourly), s.db.timeArg(now.Add(-scorebridge.DigestHourly.Period())),
		string(scorebridge.DigestDaily), s.db.timeArg(now.Add(-scorebridge.DigestDaily.Period())))
	if err != nil {
		return nil, fmt.Errorf("find due notifications: %w", err)
	}
	return scanRows(rows, scanGroup)
}

// MarkSent records that groups went out to their target, which is then
// no longer failing.
func (s *NotificationStore) MarkSent(ctx context.Context, targetID string, ids []int64, at time.Time) error {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `UPDATE notification_groups SET sent_at = ? WHERE id = ? AND target_id = ?`, s.db.timeArg(at), id, targetID); err != nil {
			return fmt.Errorf("mark notification sent: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE notification_targets SET failures = 0, last_sent_at = ? WHERE id = ?`, s.db.timeArg(at), targetID); err != nil {
		return fmt.Errorf("mark notification target sent: %w", err)
	}
	return tx.Commit()
}

// RecordFailure keeps why a delivery to a target failed and counts it.
func (s *NotificationStore) RecordFailure(ctx context.Context, targetID, message string, at time.Time) error {
	if _, err := s.db.SQL.ExecContext(ctx, s.db.rebind(`UPDATE notification_targets SET failures = failures + 1, last_error = ?, last_error_at = ? WHERE id = ?`),
		clip(message, maxAuditText), s.db.timeArg(at), targetID); err != nil {
		return fmt.Errorf("record notification failure: %w", err)
	}
	return nil
}
