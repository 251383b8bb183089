package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/scorebridge/scorebridge"
)

// MaxStateNoteLength caps the note kept with a state change.
const MaxStateNoteLength = 2000

// RecommendationService keeps improvement actions and their state history.
type RecommendationService struct {
	db *DB
}

// NewRecommendationService returns the recommendation store on db.
func NewRecommendationService(db *DB) scorebridge.RecommendationService {
	return &RecommendationService{db: db}
}

// FindRecommendationByID returns ENOTFOUND if there is no such action.
func (s *RecommendationService) FindRecommendationByID(ctx context.Context, id string) (*scorebridge.Recommendation, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return findRecommendationByID(ctx, tx, id)
}

// CreateRecommendation validates and stores r, filling in CreatedBy from the
// context's user and both timestamps. Returns EINVALID, or ECONFLICT when the
// id is taken.
func (s *RecommendationService) CreateRecommendation(ctx context.Context, r *scorebridge.Recommendation) error {
	if err := prepareRecommendation(r); err != nil {
		return err
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()

	r.CreatedBy = scorebridge.ActorFromContext(ctx)
	r.CreatedAt = s.db.now()
	r.UpdatedAt = r.CreatedAt
	added, err := insertRecommendation(ctx, tx, r)
	if err != nil {
		return err
	} else if !added {
		return scorebridge.Errorf(scorebridge.ECONFLICT, "A recommendation with id %q already exists.", r.ID)
	}
	return tx.Commit()
}

// UpdateRecommendation applies upd. Only user recommendations may change
// anything but State and CurrentScore (EFORBIDDEN otherwise); a field sent
// with its current value is not a change. A state change is kept in the
// history with the context's user. Returns ENOTFOUND or EINVALID.
func (s *RecommendationService) UpdateRecommendation(ctx context.Context, id string, upd scorebridge.RecommendationUpdate) (*scorebridge.Recommendation, error) {
	if !storableText(upd.StateNote, MaxStateNoteLength) {
		return nil, scorebridge.FieldErrorf("stateNote", "stateNote must be UTF-8 text without NUL characters, at most %d characters", MaxStateNoteLength)
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()

	old, err := lockRecommendationByID(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	r := *old
	upd.Apply(&r)
	// "identity" names the category it already has: not a change.
	if c, ok := scorebridge.ParseCategory(string(r.Category)); ok {
		r.Category = c
	}
	if r.Source != scorebridge.SourceUser && !onlyStateOrScoreChanged(old, &r) {
		return nil, scorebridge.Errorf(scorebridge.EFORBIDDEN, "%s: only its state and current score may change.", r.Source.Label())
	}
	if err := prepareRecommendation(&r); err != nil {
		return nil, err
	}
	if recommendationEqual(old, &r) {
		return old, nil
	}
	r.UpdatedAt = s.db.now()
	if err := updateRecommendation(ctx, tx, &r); err != nil {
		return nil, err
	}
	if r.State != old.State || r.CurrentScore != old.CurrentScore {
		change := &scorebridge.StateChange{
			RecommendationID: r.ID,
			From:             old.State,
			To:               r.State,
			Note:             upd.StateNote,
			ChangedBy:        scorebridge.ActorFromContext(ctx),
			ChangedAt:        r.UpdatedAt,
		}
		if r.CurrentScore != old.CurrentScore {
			from, to := old.CurrentScore, r.CurrentScore
			change.FromScore, change.ToScore = &from, &to
			// The score is the admin's figure: who changed it, from what
			// to what, is in the audit log with the change.
			if err := auditInTx(ctx, tx, &scorebridge.AuditEvent{Action: scorebridge.AuditScoreChange, Target: r.ID,
				Detail: map[string]any{"fromScore": from, "toScore": to, "maxScore": r.MaxScore, "state": string(r.State)}}); err != nil {
				return nil, err
			}
		}
		if err := insertStateChange(ctx, tx, change); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return &r, nil
}

// DeleteRecommendation removes a user recommendation and its history.
// Returns ENOTFOUND, or EFORBIDDEN for a Microsoft recommendation.
func (s *RecommendationService) DeleteRecommendation(ctx context.Context, id string) error {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()

	r, err := lockRecommendationByID(ctx, tx, id)
	if err != nil {
		return err
	}
	if r.Source != scorebridge.SourceUser {
		return scorebridge.Errorf(scorebridge.EFORBIDDEN, "Only user recommendations can be deleted; %q is a %s.", r.ID, r.Source.Label())
	}
	// The history goes explicitly too, not only by the foreign key cascade.
	if _, err := tx.ExecContext(ctx, `DELETE FROM state_changes WHERE recommendation_id = ?`, id); err != nil {
		return fmt.Errorf("delete state changes: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM recommendations WHERE id = ?`, id); err != nil {
		return fmt.Errorf("delete recommendation: %w", err)
	}
	return tx.Commit()
}

// FindStateChanges returns an action's history, newest first. Returns
// ENOTFOUND if there is no such action.
func (s *RecommendationService) FindStateChanges(ctx context.Context, id string) ([]*scorebridge.StateChange, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()

	if _, err := findRecommendationByID(ctx, tx, id); err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `
		SELECT id, recommendation_id, from_state, to_state, note, changed_by, changed_at, from_score, to_score
		FROM state_changes WHERE recommendation_id = ?
		ORDER BY changed_at DESC, id DESC`, id)
	if err != nil {
		return nil, fmt.Errorf("find state changes: %w", err)
	}
	defer rows.Close()
	changes := []*scorebridge.StateChange{}
	for rows.Next() {
		var c scorebridge.StateChange
		var from, to sql.NullFloat64
		if err := rows.Scan(&c.ID, &c.RecommendationID, &c.From, &c.To, &c.Note, &c.ChangedBy, scanTime{&c.ChangedAt}, &from, &to); err != nil {
			return nil, fmt.Errorf("read state change: %w", err)
		}
		if from.Valid && to.Valid {
			c.FromScore, c.ToScore = &from.Float64, &to.Float64
		}
		changes = append(changes, &c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find state changes: %w", err)
	}
	return changes, nil
}

// SeedRecommendations stores the actions whose ids are not there yet and
// leaves the others, and their states, untouched. Every action is validated
// first, so one bad action stores none. It returns how many were added and
// fills in CreatedBy and the timestamps of those.
func (s *RecommendationService) SeedRecommendations(ctx context.Context, recs []*scorebridge.Recommendation) (int, error) {
	for i, r := range recs {
		if r == nil {
			return 0, scorebridge.Errorf(scorebridge.EINVALID, "Recommendation %d is empty.", i+1)
		}
		if err := prepareRecommendation(r); err != nil {
			var e *scorebridge.Error
			if errors.As(err, &e) {
				return 0, &scorebridge.Error{Code: e.Code, Field: e.Field, Message: fmt.Sprintf("Recommendation %d (%q): %s", i+1, r.ID, e.Message)}
			}
			return 0, err
		}
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()

	actor, now := scorebridge.ActorFromContext(ctx), s.db.now()
	n := 0
	for _, r := range recs {
		// Only the actions added get their creator and timestamps filled in.
		saved := *r
		r.CreatedBy, r.CreatedAt, r.UpdatedAt = actor, now, now
		added, err := insertRecommendation(ctx, tx, r)
		if err != nil {
			return 0, err
		}
		if added {
			n++
		} else {
			r.CreatedBy, r.CreatedAt, r.UpdatedAt = saved.CreatedBy, saved.CreatedAt, saved.UpdatedAt
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit: %w", err)
	}
	return n, nil
}

// prepareRecommendation validates r and puts the values a store keeps in
// their canonical form: the category's display name and a non-nil threats list.
func prepareRecommendation(r *scorebridge.Recommendation) error {
	if err := r.Validate(); err != nil {
		return err
	}
	r.Category, _ = scorebridge.ParseCategory(string(r.Category))
	if r.Threats == nil {
		r.Threats = []string{}
	}
	if len(r.Raw) == 0 {
		r.Raw = nil
	}
	return nil
}

// onlyStateOrScoreChanged reports whether b differs from a only in the
// fields any recommendation may change.
func onlyStateOrScoreChanged(a, b *scorebridge.Recommendation) bool {
	x := *b
	x.State, x.CurrentScore = a.State, a.CurrentScore
	return recommendationEqual(a, &x)
}

func recommendationEqual(a, b *scorebridge.Recommendation) bool {
	return a.ID == b.ID && a.Title == b.Title && a.Description == b.Description &&
		a.Remediation == b.Remediation && a.Category == b.Category && a.Source == b.Source &&
		a.SourceTool == b.SourceTool && a.Service == b.Service && a.Tier == b.Tier &&
		a.UserImpact == b.UserImpact && a.ImplementationCost == b.ImplementationCost &&
		slices.Equal(a.Threats, b.Threats) && a.MaxScore == b.MaxScore &&
		a.CurrentScore == b.CurrentScore && a.State == b.State
}

// recommendationColumns is the select list scanRecommendation reads.
const recommendationColumns = `id, title, description, remediation, category, source, source_tool,
	service, tier, user_impact, implementation_cost, threats, max_score, current_score, state, raw,
	created_by, created_at, updated_at, source_id, external_id, source_status, unscored, retired_at, regressed_at`

type rowScanner interface{ Scan(dest ...any) error }

// scanRows reads every row of a query with one row scanner and closes rows.
func scanRows[T any](rows *sql.Rows, scan func(rowScanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func scanRecommendation(row rowScanner) (*scorebridge.Recommendation, error) {
	var r scorebridge.Recommendation
	var threats string
	var raw []byte
	if err := row.Scan(&r.ID, &r.Title, &r.Description, &r.Remediation, &r.Category, &r.Source, &r.SourceTool,
		&r.Service, &r.Tier, &r.UserImpact, &r.ImplementationCost, &threats, &r.MaxScore, &r.CurrentScore, &r.State, &raw,
		&r.CreatedBy, scanTime{&r.CreatedAt}, scanTime{&r.UpdatedAt},
		&r.SourceID, &r.ExternalID, &r.SourceStatus, &r.Unscored, scanNullTime{&r.RetiredAt}, scanNullTime{&r.RegressedAt}); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(threats), &r.Threats); err != nil {
		return nil, fmt.Errorf("recommendation %q: read threats: %w", r.ID, err)
	}
	if r.Threats == nil {
		r.Threats = []string{}
	}
	if raw != nil {
		r.Raw = json.RawMessage(raw)
	}
	return &r, nil
}

func findRecommendationByID(ctx context.Context, tx *tx, id string) (*scorebridge.Recommendation, error) {
	return selectRecommendationByID(ctx, tx, id, "")
}

// lockRecommendationByID reads an action the transaction is about to change.
// On PostgreSQL the row stays locked until the end of the transaction, so two
// replicas changing the same action take turns and the history never shows
// two changes from the same state; a SQLite write transaction already holds
// the database's one write lock.
func lockRecommendationByID(ctx context.Context, tx *tx, id string) (*scorebridge.Recommendation, error) {
	lock := ""
	if tx.db.Dialect == DialectPostgres {
		lock = " FOR UPDATE"
	}
	return selectRecommendationByID(ctx, tx, id, lock)
}

func selectRecommendationByID(ctx context.Context, tx *tx, id, lock string) (*scorebridge.Recommendation, error) {
	// An id no action could have is not found, rather than a PostgreSQL
	// encoding error.
	if !storableText(id, scorebridge.MaxIDLength) {
		return nil, scorebridge.Errorf(scorebridge.ENOTFOUND, "Recommendation %q not found.", id)
	}
	r, err := scanRecommendation(tx.QueryRowContext(ctx, `SELECT `+recommendationColumns+` FROM recommendations WHERE id = ?`+lock, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, scorebridge.Errorf(scorebridge.ENOTFOUND, "Recommendation %q not found.", id)
	} else if err != nil {
		return nil, fmt.Errorf("find recommendation %q: %w", id, err)
	}
	return r, nil
}

// insertRecommendation stores r unless its id is taken, and reports whether
// it did. ON CONFLICT rather than a caught error keeps a PostgreSQL
// transaction usable after a duplicate.
func insertRecommendation(ctx context.Context, tx *tx, r *scorebridge.Recommendation) (bool, error) {
	threats, err := json.Marshal(r.Threats)
	if err != nil {
		return false, fmt.Errorf("encode threats: %w", err)
	}
	res, err := tx.execPrepared(ctx, `
		INSERT INTO recommendations (id, title, description, remediation, category, source, source_tool,
			service, tier, user_impact, implementation_cost, threats, max_score, current_score, state, raw,
			created_by, created_at, updated_at, title_key, search_text,
			source_id, external_id, source_status, unscored, retired_at, regressed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`,
		r.ID, r.Title, r.Description, r.Remediation, string(r.Category), string(r.Source), r.SourceTool,
		r.Service, r.Tier, r.UserImpact, r.ImplementationCost, string(threats), r.MaxScore, r.CurrentScore, string(r.State), rawArg(r.Raw),
		r.CreatedBy, tx.db.timeArg(r.CreatedAt), tx.db.timeArg(r.UpdatedAt), titleKey(r.Title), searchText(r),
		r.SourceID, r.ExternalID, r.SourceStatus, r.Unscored, tx.db.nullTimeArg(r.RetiredAt), tx.db.nullTimeArg(r.RegressedAt))
	if err != nil {
		return false, fmt.Errorf("insert recommendation %q: %w", r.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("insert recommendation %q: %w", r.ID, err)
	}
	return n == 1, nil
}

func updateRecommendation(ctx context.Context, tx *tx, r *scorebridge.Recommendation) error {
	threats, err := json.Marshal(r.Threats)
	if err != nil {
		return fmt.Errorf("encode threats: %w", err)
	}
	_, err = tx.execPrepared(ctx, `
		UPDATE recommendations SET title = ?, description = ?, remediation = ?, category = ?,
			service = ?, tier = ?, user_impact = ?, implementation_cost = ?, threats = ?,
			max_score = ?, current_score = ?, state = ?, updated_at = ?, title_key = ?, search_text = ?,
			raw = ?, source_status = ?, unscored = ?, retired_at = ?, regressed_at = ?
		WHERE id = ?`,
		r.Title, r.Description, r.Remediation, string(r.Category),
		r.Service, r.Tier, r.UserImpact, r.ImplementationCost, string(threats),
		r.MaxScore, r.CurrentScore, string(r.State), tx.db.timeArg(r.UpdatedAt), titleKey(r.Title), searchText(r),
		rawArg(r.Raw), r.SourceStatus, r.Unscored, tx.db.nullTimeArg(r.RetiredAt), tx.db.nullTimeArg(r.RegressedAt),
		r.ID)
	if err != nil {
		return fmt.Errorf("update recommendation %q: %w", r.ID, err)
	}
	return nil
}

func insertStateChange(ctx context.Context, tx *tx, c *scorebridge.StateChange) error {
	_, err := tx.execPrepared(ctx, `
		INSERT INTO state_changes (recommendation_id, from_state, to_state, note, changed_by, changed_at, from_score, to_score)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		c.RecommendationID, string(c.From), string(c.To), c.Note, c.ChangedBy, tx.db.timeArg(c.ChangedAt), optionalFloat(c.FromScore), optionalFloat(c.ToScore))
	if err != nil {
		return fmt.Errorf("record state change of %q: %w", c.RecommendationID, err)
	}
	return nil
}

// optionalFloat writes a nil score as NULL.
func optionalFloat(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

// rawArg keeps an absent source record as NULL and a present one as bytes.
func rawArg(raw json.RawMessage) any {
	if len(raw) == 0 {
		return nil
	}
	return []byte(raw)
}

// storableText reports whether s is UTF-8 without NUL (which PostgreSQL text
// cannot hold) and at most max characters long.
func storableText(s string, max int) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0) && utf8.RuneCountInString(s) <= max
}

// titleKey is what the "title" sort orders by.
func titleKey(title string) string { return strings.ToLower(title) }

// searchFieldSeparator joins the searched fields; a query never matches
// across two fields unless it holds this character.
const searchFieldSeparator = "\x1f"

// searchText is what a query is matched against: lower-cased in Go because
// SQLite's LOWER and LIKE fold only ASCII.
func searchText(r *scorebridge.Recommendation) string {
	return strings.ToLower(strings.Join([]string{r.ID, r.Title, r.Description, r.Service}, searchFieldSeparator))
}
