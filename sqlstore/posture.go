package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/secret"
)

// PostureStore keeps posture sources, their imports and the daily scores
// they report, and applies an import to the recommendations in one
// transaction. A connector's client secret is sealed with the Box.
type PostureStore struct {
	db  *DB
	box *secret.Box
}

// NewPostureStore returns the posture store on db; box seals connector
// secrets and may be nil for a center that only imports files.
func NewPostureStore(db *DB, box *secret.Box) *PostureStore {
	return &PostureStore{db: db, box: box}
}

const sourceColumns = `id, kind, name, tenant_id, connector, client_id, client_secret <> '', token_url, graph_url,
	write_back, last_import_at, last_error, created_at, updated_at`

func scanSource(row rowScanner) (*scorebridge.PostureSource, error) {
	var s scorebridge.PostureSource
	err := row.Scan(&s.ID, &s.Kind, &s.Name, &s.TenantID, &s.Connector, &s.ClientID, &s.HasClientSecret, &s.TokenURL, &s.GraphURL,
		&s.WriteBack, scanNullTime{&s.LastImportAt}, &s.LastError, scanTime{&s.CreatedAt}, scanTime{&s.UpdatedAt})
	return &s, err
}

func newSourceID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "src-" + hex.EncodeToString(b)
}

// CreateSource validates and stores s, its client secret sealed, with the
// audit event in the same transaction. Returns EINVALID, or ECONFLICT for a
// second source of the same kind and tenant.
func (p *PostureStore) CreateSource(ctx context.Context, s *scorebridge.PostureSource, clientSecret string) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if s.Connector && clientSecret == "" {
		return scorebridge.FieldErrorf("clientSecret", "clientSecret is required for a Graph connector")
	}
	tx, err := p.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := p.insertSource(ctx, tx, s, clientSecret); err != nil {
		return err
	}
	if err := insertAuditEvent(ctx, tx, &scorebridge.AuditEvent{
		Action: scorebridge.AuditPostureSource, Target: s.ID,
		Detail: map[string]any{"change": "create", "kind": string(s.Kind), "name": s.Name, "tenantId": s.TenantID, "connector": s.Connector, "writeBack": s.WriteBack},
	}); err != nil {
		return err
	}
	return tx.Commit()
}

func (p *PostureStore) insertSource(ctx context.Context, tx *tx, s *scorebridge.PostureSource, clientSecret string) error {
	if s.ID == "" {
		s.ID = newSourceID()
	}
	sealed := ""
	if clientSecret != "" {
		if p.box == nil {
			return errors.New("posture store: no key to seal the client secret with")
		}
		var err error
		if sealed, err = p.box.Seal(clientSecret, sealPurpose("posture_sources", s.ID, "client_secret")); err != nil {
			return err
		}
		s.HasClientSecret = true
	}
	now := p.db.now()
	s.CreatedAt, s.UpdatedAt = now, now
	res, err := tx.ExecContext(ctx, `
		INSERT INTO posture_sources (id, kind, name, tenant_id, connector, client_id, client_secret, token_url, graph_url,
			write_back, last_error, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?)
		ON CONFLICT (kind, tenant_id) DO NOTHING`,
		s.ID, string(s.Kind), s.Name, s.TenantID, s.Connector, s.ClientID, sealed, s.TokenURL, s.GraphURL,
		s.WriteBack, p.db.timeArg(now), p.db.timeArg(now))
	if err != nil {
		return fmt.Errorf("insert posture source: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return scorebridge.Errorf(scorebridge.ECONFLICT, "A %s source for tenant %q already exists.", s.Kind.Label(), s.TenantID)
	}
	return nil
}

// FindSources lists every source, oldest first.
func (p *PostureStore) FindSources(ctx context.Context) ([]*scorebridge.PostureSource, error) {
	rows, err := p.db.reader().QueryContext(ctx, `SELECT `+sourceColumns+` FROM posture_sources ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("find posture sources: %w", err)
	}
	out, err := scanRows(rows, scanSource)
	if out == nil {
		out = []*scorebridge.PostureSource{}
	}
	return out, err
}

// FindSourceByID returns ENOTFOUND if there is no such source.
func (p *PostureStore) FindSourceByID(ctx context.Context, id string) (*scorebridge.PostureSource, error) {
	s, err := scanSource(p.db.reader().QueryRowContext(ctx, p.db.rebind(`SELECT `+sourceColumns+` FROM posture_sources WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, scorebridge.Errorf(scorebridge.ENOTFOUND, "Posture source %q not found.", id)
	} else if err != nil {
		return nil, fmt.Errorf("find posture source: %w", err)
	}
	return s, nil
}

// SourceClientSecret returns a connector's client secret in clear, for the
// connector only.
func (p *PostureStore) SourceClientSecret(ctx context.Context, id string) (string, error) {
	var sealed string
	err := p.db.reader().QueryRowContext(ctx, p.db.rebind(`SELECT client_secret FROM posture_sources WHERE id = ?`), id).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return "", scorebridge.Errorf(scorebridge.ENOTFOUND, "Posture source %q not found.", id)
	} else if err != nil {
		return "", fmt.Errorf("find posture source secret: %w", err)
	}
	if sealed == "" || p.box == nil {
		return "", scorebridge.Errorf(scorebridge.EINVALID, "Posture source %q has no client secret.", id)
	}
	return p.box.Open(sealed, sealPurpose("posture_sources", id, "client_secret"))
}

// RecordSourceError keeps why a connector run failed, for the Sources page,
// with the service's audit event in the same transaction.
func (p *PostureStore) RecordSourceError(ctx context.Context, id, message string, event *scorebridge.AuditEvent) error {
	tx, err := p.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE posture_sources SET last_error = ?, updated_at = ? WHERE id = ?`,
		clip(message, maxAuditText), p.db.timeArg(p.db.now()), id); err != nil {
		return fmt.Errorf("record posture source error: %w", err)
	}
	if err := auditInTx(ctx, tx, event); err != nil {
		return err
	}
	return tx.Commit()
}

// ApplyImport applies a parsed batch to its source in one transaction: the
// source (found by id, or by kind and tenant, and created when new), every
// action added, updated or retired through the recommendation helpers, the
// records kept unmapped, the reported daily scores, the import record and
// the audit event audit builds from what the import did (the posture
// service's). Either all of it is stored or none.
func (p *PostureStore) ApplyImport(ctx context.Context, src *scorebridge.PostureSource, b *scorebridge.ImportBatch, audit func(*scorebridge.PostureSource, *scorebridge.Import) *scorebridge.AuditEvent) (*scorebridge.Import, error) {
	now := p.db.now()
	prepared := make([]scorebridge.ImportRecord, 0, len(b.Records))
	seen := make(map[string]bool, len(b.Records))
	unmapped := append([]scorebridge.UnmappedRecord(nil), b.Unmapped...)
	for _, in := range b.Records {
		if seen[in.ExternalID] {
			unmapped = append(unmapped, scorebridge.UnmappedRecord{Ref: in.ExternalID, Reason: "a second record with the same id; the first was imported", Raw: in.Rec.Raw})
			continue
		}
		seen[in.ExternalID] = true
		prepared = append(prepared, in)
	}

	tx, err := p.db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()

	if src.ID == "" {
		found, err := scanSource(tx.QueryRowContext(ctx, `SELECT `+sourceColumns+` FROM posture_sources WHERE kind = ? AND tenant_id = ?`, string(src.Kind), src.TenantID))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if err := src.Validate(); err != nil {
				return nil, err
			}
			if err := p.insertSource(ctx, tx, src, ""); err != nil {
				return nil, err
			}
		case err != nil:
			return nil, fmt.Errorf("find posture source: %w", err)
		default:
			*src = *found
		}
	}

	existing, err := p.sourceRecommendations(ctx, tx, src.ID)
	if err != nil {
		return nil, err
	}
	imp := &scorebridge.Import{
		SourceID: src.ID, At: now, Actor: scorebridge.ActorFromContext(ctx), Origin: b.Origin, Format: b.Format,
		FileName: b.FileName, SHA256: b.SHA256, Bytes: b.Bytes, Partial: b.Partial,
		Warnings: append([]string{}, b.Warnings...), PassRate: b.PassRate,
	}
	actor := imp.Actor
	for _, in := range prepared {
		id := scorebridge.ImportedID(src.ID, in.ExternalID)
		old := existing[id]
		delete(existing, id)
		r, change, stateChange := scorebridge.MergeImported(old, in, src.ID, string(src.Kind), now)
		if change == scorebridge.ImportAdded {
			r.CreatedBy = actor
		}
		if change != scorebridge.ImportUnchanged {
			if err := prepareRecommendation(r); err != nil {
				unmapped = append(unmapped, scorebridge.UnmappedRecord{Ref: in.ExternalID, Reason: err.Error(), Raw: in.Rec.Raw})
				continue
			}
		}
		switch change {
		case scorebridge.ImportAdded:
			added, err := insertRecommendation(ctx, tx, r)
			if err != nil {
				return nil, err
			} else if !added {
				unmapped = append(unmapped, scorebridge.UnmappedRecord{Ref: in.ExternalID, Reason: fmt.Sprintf("the id %q is taken by another action", r.ID), Raw: in.Rec.Raw})
				continue
			}
			imp.Added++
		case scorebridge.ImportUpdated:
			if err := updateRecommendation(ctx, tx, r); err != nil {
				return nil, err
			}
			imp.Updated++
		default:
			imp.Unchanged++
		}
		if old != nil && old.RegressedAt == nil && r.RegressedAt != nil {
			imp.Regressed++
		}
		if stateChange != nil {
			stateChange.ChangedBy = actor
			if err := insertStateChange(ctx, tx, stateChange); err != nil {
				return nil, err
			}
		}
	}
	if b.Complete {
		for _, old := range existing {
			if old.RetiredAt != nil {
				continue
			}
			r := *old
			t := now
			r.RetiredAt, r.UpdatedAt = &t, now
			if err := updateRecommendation(ctx, tx, &r); err != nil {
				return nil, err
			}
			imp.Retired++
		}
	}
	imp.Unmapped = len(unmapped)

	for _, d := range b.Scores {
		cats, _ := json.Marshal(d.Categories)
		if _, err := tx.execPrepared(ctx, `
			INSERT INTO posture_source_scores (source_id, day, current_score, max_score, categories)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (source_id, day) DO UPDATE SET current_score = excluded.current_score,
				max_score = excluded.max_score, categories = excluded.categories`,
			src.ID, d.Day, d.CurrentScore, d.MaxScore, string(cats)); err != nil {
			return nil, fmt.Errorf("store reported score of %s: %w", d.Day, err)
		}
	}
	if len(b.Scores) > 0 {
		latest := b.Scores[0]
		for i := range b.Scores {
			if b.Scores[i].Day > latest.Day {
				latest = b.Scores[i]
			}
		}
		imp.Reported = &latest
	}
	if imp.Score, err = sourceScore(ctx, tx, src.ID); err != nil {
		return nil, err
	}

	warnings, _ := json.Marshal(imp.Warnings)
	reported, score, passRate := jsonOrEmpty(imp.Reported), jsonOrEmpty(imp.Score), jsonOrEmpty(imp.PassRate)
	const insert = `INSERT INTO posture_imports (source_id, at, actor, origin, format, file_name, sha256, bytes,
			added, updated, unchanged, retired, regressed, unmapped, partial, warnings, reported, score, pass_rate)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	args := []any{src.ID, p.db.timeArg(now), clip(actor, maxAuditText), imp.Origin, imp.Format, clip(imp.FileName, 300), imp.SHA256, imp.Bytes,
		imp.Added, imp.Updated, imp.Unchanged, imp.Retired, imp.Regressed, imp.Unmapped, imp.Partial, string(warnings), reported, score, passRate}
	if p.db.Dialect == DialectPostgres {
		err = tx.QueryRowContext(ctx, insert+` RETURNING id`, args...).Scan(&imp.ID)
	} else {
		var res sql.Result
		if res, err = tx.ExecContext(ctx, insert, args...); err == nil {
			imp.ID, err = res.LastInsertId()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("record import: %w", err)
	}
	for _, u := range unmapped {
		if _, err := tx.execPrepared(ctx, `INSERT INTO posture_unmapped (import_id, ref, reason, raw) VALUES (?, ?, ?, ?)`,
			imp.ID, clip(u.Ref, 300), clip(u.Reason, maxAuditText), rawArg(u.Raw)); err != nil {
			return nil, fmt.Errorf("keep unmapped record: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE posture_sources SET last_import_at = ?, last_error = '', updated_at = ? WHERE id = ?`,
		p.db.timeArg(now), p.db.timeArg(now), src.ID); err != nil {
		return nil, fmt.Errorf("update posture source: %w", err)
	}
	t := now
	src.LastImportAt, src.LastError = &t, ""
	if audit != nil {
		if err := auditInTx(ctx, tx, audit(src, imp)); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return imp, nil
}

func jsonOrEmpty(v any) string {
	b, err := json.Marshal(v)
	if err != nil || string(b) == "null" {
		return ""
	}
	return string(b)
}

// sourceRecommendations reads every action of a source, keyed by id.
func (p *PostureStore) sourceRecommendations(ctx context.Context, tx *tx, sourceID string) (map[string]*scorebridge.Recommendation, error) {
	lock := ""
	if p.db.Dialect == DialectPostgres {
		lock = " FOR UPDATE"
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+recommendationColumns+` FROM recommendations WHERE source_id = ?`+lock, sourceID)
	if err != nil {
		return nil, fmt.Errorf("read the source's actions: %w", err)
	}
	recs, err := scanRows(rows, scanRecommendation)
	if err != nil {
		return nil, fmt.Errorf("read the source's actions: %w", err)
	}
	out := make(map[string]*scorebridge.Recommendation, len(recs))
	for _, r := range recs {
		out[r.ID] = r
	}
	return out, nil
}

const importColumns = `id, source_id, at, actor, origin, format, file_name, sha256, bytes, added, updated, unchanged,
	retired, regressed, unmapped, partial, warnings, reported, score, pass_rate`

func scanImport(row rowScanner) (*scorebridge.Import, error) {
	var i scorebridge.Import
	var warnings, reported, score, passRate string
	if err := row.Scan(&i.ID, &i.SourceID, scanTime{&i.At}, &i.Actor, &i.Origin, &i.Format, &i.FileName, &i.SHA256, &i.Bytes,
		&i.Added, &i.Updated, &i.Unchanged, &i.Retired, &i.Regressed, &i.Unmapped, &i.Partial,
		&warnings, &reported, &score, &passRate); err != nil {
		return nil, err
	}
	_ = json.Unmarshal([]byte(warnings), &i.Warnings)
	if i.Warnings == nil {
		i.Warnings = []string{}
	}
	if reported != "" {
		i.Reported = new(scorebridge.ReportedScore)
		_ = json.Unmarshal([]byte(reported), i.Reported)
	}
	if score != "" {
		_ = json.Unmarshal([]byte(score), &i.Score)
	}
	if passRate != "" {
		i.PassRate = new(scorebridge.PassRate)
		_ = json.Unmarshal([]byte(passRate), i.PassRate)
	}
	return &i, nil
}

// MaxImportPage caps FindImports.
const MaxImportPage = 500

// FindImports returns a source's imports, newest first. Returns ENOTFOUND
// for an unknown source.
func (p *PostureStore) FindImports(ctx context.Context, sourceID string, limit int) ([]*scorebridge.Import, error) {
	if _, err := p.FindSourceByID(ctx, sourceID); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > MaxImportPage {
		limit = MaxImportPage
	}
	rows, err := p.db.reader().QueryContext(ctx, p.db.rebind(`SELECT `+importColumns+` FROM posture_imports WHERE source_id = ? ORDER BY id DESC LIMIT ?`), sourceID, limit)
	if err != nil {
		return nil, fmt.Errorf("find imports: %w", err)
	}
	out, err := scanRows(rows, scanImport)
	if out == nil {
		out = []*scorebridge.Import{}
	}
	return out, err
}

// FindUnmapped returns the records an import kept without mapping, in the
// order the import met them.
func (p *PostureStore) FindUnmapped(ctx context.Context, importID int64) ([]*scorebridge.UnmappedRecord, error) {
	rows, err := p.db.reader().QueryContext(ctx, p.db.rebind(`SELECT ref, reason, raw FROM posture_unmapped WHERE import_id = ? ORDER BY id`), importID)
	if err != nil {
		return nil, fmt.Errorf("find unmapped records: %w", err)
	}
	out, err := scanRows(rows, func(row rowScanner) (*scorebridge.UnmappedRecord, error) {
		var u scorebridge.UnmappedRecord
		var raw []byte
		err := row.Scan(&u.Ref, &u.Reason, &raw)
		if raw != nil {
			u.Raw = raw
		}
		return &u, err
	})
	if out == nil {
		out = []*scorebridge.UnmappedRecord{}
	}
	return out, err
}

// SourceHistory returns a source's reported daily scores for the last days
// days before the latest one, oldest first.
func (p *PostureStore) SourceHistory(ctx context.Context, sourceID string, days int) ([]*scorebridge.ReportedScore, error) {
	if days < 1 || days > MaxScoreHistoryDays {
		return nil, scorebridge.FieldErrorf("days", "days must be between 1 and %d", MaxScoreHistoryDays)
	}
	first := p.db.now().AddDate(0, 0, -(days - 1)).Format(dayFormat)
	rows, err := p.db.reader().QueryContext(ctx, p.db.rebind(`SELECT day, current_score, max_score, categories FROM posture_source_scores
		WHERE source_id = ? AND day >= ? ORDER BY day`), sourceID, first)
	if err != nil {
		return nil, fmt.Errorf("find source history: %w", err)
	}
	out, err := scanRows(rows, func(row rowScanner) (*scorebridge.ReportedScore, error) {
		var s scorebridge.ReportedScore
		var cats string
		if err := row.Scan(&s.Day, &s.CurrentScore, &s.MaxScore, &cats); err != nil {
			return nil, err
		}
		_ = json.Unmarshal([]byte(cats), &s.Categories)
		s.Percent = scorebridge.ComputeScore(nil).Percent
		if s.MaxScore > 0 {
			s.Percent = float64(int64(s.CurrentScore/s.MaxScore*10000+0.5)) / 100
		}
		return &s, nil
	})
	if out == nil {
		out = []*scorebridge.ReportedScore{}
	}
	return out, err
}

// SourceScore is the center's score of one source's actions alone.
func (p *PostureStore) SourceScore(ctx context.Context, sourceID string) (scorebridge.Score, error) {
	tx, err := p.db.beginRead(ctx)
	if err != nil {
		return scorebridge.Score{}, err
	}
	defer tx.Rollback()
	return sourceScore(ctx, tx, sourceID)
}

// UserScore is the score of user recommendations alone.
func (p *PostureStore) UserScore(ctx context.Context) (scorebridge.Score, error) {
	tx, err := p.db.beginRead(ctx)
	if err != nil {
		return scorebridge.Score{}, err
	}
	defer tx.Rollback()
	return userScore(ctx, tx)
}

// CatalogStatus says how many built-in sample actions there are and
// whether they still count (they stop once real data has been imported).
func (p *PostureStore) CatalogStatus(ctx context.Context) (n int, counting bool, err error) {
	var imports int
	err = p.db.reader().QueryRowContext(ctx, p.db.rebind(`SELECT (SELECT COUNT(*) FROM recommendations WHERE source_tool = ?), (SELECT COUNT(*) FROM posture_imports)`),
		scorebridge.ToolCatalog).Scan(&n, &imports)
	if err != nil {
		return 0, false, fmt.Errorf("count catalog actions: %w", err)
	}
	return n, imports == 0, nil
}

// RemoveCatalog deletes the built-in sample actions that no ticket names,
// with their history, in one transaction with its audit event, and returns
// how many went. Actions shared as tickets stay, so no ticket loses its
// action.
func (p *PostureStore) RemoveCatalog(ctx context.Context) (int, error) {
	tx, err := p.db.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	const unshared = `source_tool = ? AND id NOT IN (SELECT recommendation_id FROM ticket_recommendations)`
	if _, err := tx.ExecContext(ctx, `DELETE FROM state_changes WHERE recommendation_id IN (SELECT id FROM recommendations WHERE `+unshared+`)`, scorebridge.ToolCatalog); err != nil {
		return 0, fmt.Errorf("remove catalog history: %w", err)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM recommendations WHERE `+unshared, scorebridge.ToolCatalog)
	if err != nil {
		return 0, fmt.Errorf("remove catalog: %w", err)
	}
	n, _ := res.RowsAffected()
	if err := insertAuditEvent(ctx, tx, &scorebridge.AuditEvent{
		Action: scorebridge.AuditPostureSource, Target: "catalog", Detail: map[string]any{"change": "remove catalog", "removed": n},
	}); err != nil {
		return 0, err
	}
	return int(n), tx.Commit()
}

// FindRegressed returns actions whose control was achieved and no longer
// is, most recent regression first.
func (p *PostureStore) FindRegressed(ctx context.Context, limit int) ([]*scorebridge.Recommendation, error) {
	if limit <= 0 || limit > MaxImportPage {
		limit = MaxImportPage
	}
	rows, err := p.db.reader().QueryContext(ctx, p.db.rebind(`SELECT `+recommendationColumns+` FROM recommendations
		WHERE regressed_at IS NOT NULL AND retired_at IS NULL ORDER BY regressed_at DESC, id LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("find regressed actions: %w", err)
	}
	out, err := scanRows(rows, scanRecommendation)
	if out == nil {
		out = []*scorebridge.Recommendation{}
	}
	return out, err
}
