package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/scorebridge/scorebridge"
)

// MaxScoreHistoryDays caps how far back ScoreHistory looks.
const MaxScoreHistoryDays = 3660

// dayFormat names a UTC day.
const dayFormat = "2006-01-02"

// ScoreService computes the Secure Score from the stored actions and keeps
// one snapshot per UTC day.
type ScoreService struct {
	db *DB
}

// NewScoreService returns the score store on db.
func NewScoreService(db *DB) scorebridge.ScoreService {
	return &ScoreService{db: db}
}

// CurrentScore computes the score from the actions as they are now, reading
// only the four columns the arithmetic needs.
func (s *ScoreService) CurrentScore(ctx context.Context) (scorebridge.Score, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return scorebridge.Score{}, err
	}
	defer tx.Rollback()
	return currentScore(ctx, tx)
}

// SnapshotScore stores today's score (UTC day of db.Now), replacing an
// earlier snapshot of the same day, and returns it.
func (s *ScoreService) SnapshotScore(ctx context.Context) (*scorebridge.ScoreSnapshot, error) {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()

	score, err := currentScore(ctx, tx)
	if err != nil {
		return nil, err
	}
	now := s.db.now()
	snap := &scorebridge.ScoreSnapshot{Day: now.Format(dayFormat), Score: score, TakenAt: now}
	b, err := json.Marshal(score)
	if err != nil {
		return nil, fmt.Errorf("encode score: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO score_snapshots (day, score, taken_at) VALUES (?, ?, ?)
		ON CONFLICT (day) DO UPDATE SET score = excluded.score, taken_at = excluded.taken_at`,
		snap.Day, string(b), s.db.timeArg(now)); err != nil {
		return nil, fmt.Errorf("store score snapshot: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return snap, nil
}

// ScoreHistory returns the snapshots of the last days days, today included,
// oldest first. Returns EINVALID unless 1 <= days <= MaxScoreHistoryDays.
func (s *ScoreService) ScoreHistory(ctx context.Context, days int) ([]*scorebridge.ScoreSnapshot, error) {
	if days < 1 || days > MaxScoreHistoryDays {
		return nil, scorebridge.FieldErrorf("days", "days must be between 1 and %d", MaxScoreHistoryDays)
	}
	first := s.db.now().AddDate(0, 0, -(days - 1)).Format(dayFormat)

	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT day, score, taken_at FROM score_snapshots WHERE day >= ? ORDER BY day`, first)
	if err != nil {
		return nil, fmt.Errorf("find score history: %w", err)
	}
	defer rows.Close()
	snaps := []*scorebridge.ScoreSnapshot{}
	for rows.Next() {
		var snap scorebridge.ScoreSnapshot
		var score string
		if err := rows.Scan(&snap.Day, &score, scanTime{&snap.TakenAt}); err != nil {
			return nil, fmt.Errorf("read score snapshot: %w", err)
		}
		if err := json.Unmarshal([]byte(score), &snap.Score); err != nil {
			return nil, fmt.Errorf("read score snapshot of %s: %w", snap.Day, err)
		}
		snaps = append(snaps, &snap)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find score history: %w", err)
	}
	return snaps, nil
}

// microPoints is the unit score_totals keeps its sums in (migration 0110).
const microPoints = 1e6

func currentScore(ctx context.Context, tx *tx) (scorebridge.Score, error) {
	return keptScore(ctx, tx, "")
}

// keptScore is the score from the kept totals, of one source's actions
// when source is set, of all of them otherwise.
func keptScore(ctx context.Context, tx *tx, source scorebridge.Source) (scorebridge.Score, error) {
	excluded, err := notCounting(ctx, tx)
	if err != nil {
		return scorebridge.Score{}, err
	}
	// score_totals holds, per category, source and state, the sums the
	// triggers keep on every change to an action: a few dozen rows however
	// many actions there are. Earned points depend only on the state and are
	// linear in the scores, so ComputeScore over the group sums gives what it
	// would over every row.
	rows, err := tx.QueryContext(ctx, `
		SELECT category, source, state, max_micro, current_micro
		FROM score_totals WHERE actions > 0 AND (? = '' OR source = ?)`, string(source), string(source))
	if err != nil {
		return scorebridge.Score{}, fmt.Errorf("read score: %w", err)
	}
	defer rows.Close()
	var items []scorebridge.ScoreItem
	for rows.Next() {
		var it scorebridge.ScoreItem
		var maxMicro, curMicro int64
		if err := rows.Scan(&it.Category, &it.Source, &it.State, &maxMicro, &curMicro); err != nil {
			return scorebridge.Score{}, fmt.Errorf("read score: %w", err)
		}
		// Actions that do not count are taken out of their group again:
		// the same per-action micro-points, so the subtraction is exact.
		k := scoreKey{it.Category, it.Source, it.State}
		maxMicro -= excluded[k][0]
		curMicro -= excluded[k][1]
		it.MaxScore, it.CurrentScore = float64(maxMicro)/microPoints, float64(curMicro)/microPoints
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return scorebridge.Score{}, fmt.Errorf("read score: %w", err)
	}
	return scorebridge.ComputeScore(items), nil
}

type scoreKey struct {
	category scorebridge.Category
	source   scorebridge.Source
	state    scorebridge.State
}

// notCounting sums, in the micro-points of score_totals, the actions the
// kept totals hold but the score must leave out: those their source does
// not score, retired ones, and the built-in sample catalog once real posture
// data has been imported. They are few (a tenant's unscored profiles, the
// catalog), so this reads a handful of rows however many actions count.
func notCounting(ctx context.Context, tx *tx) (map[scoreKey][2]int64, error) {
	var imported bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM posture_imports)`).Scan(&imported); err != nil {
		return nil, fmt.Errorf("read score: %w", err)
	}
	// One indexed lookup per reason, not an OR, which no index serves: the
	// OR read every action's entry in the score index on each request.
	rows, err := tx.QueryContext(ctx, notCountingQuery(imported), true, scorebridge.ToolCatalog)
	if err != nil {
		return nil, fmt.Errorf("read score: %w", err)
	}
	defer rows.Close()
	out := map[scoreKey][2]int64{}
	for rows.Next() {
		var k scoreKey
		var m, c int64
		if err := rows.Scan(&k.category, &k.source, &k.state, &m, &c); err != nil {
			return nil, fmt.Errorf("read score: %w", err)
		}
		out[k] = [2]int64{m, c}
	}
	return out, rows.Err()
}

// notCountingQuery sums the actions the score leaves out, each found by its
// own index (recommendations_unscored, recommendations_retired, and
// recommendations_score by source_tool). Its parameters are true and the
// catalog's tool; with imported false the catalog still counts.
func notCountingQuery(imported bool) string {
	catalog := ` UNION SELECT id FROM recommendations WHERE source_tool = ?`
	if !imported {
		catalog = ` UNION SELECT id FROM recommendations WHERE source_tool = ? AND 1 = 0`
	}
	return `
		SELECT category, source, state,
		       SUM(CAST(ROUND(max_score * 1000000) AS BIGINT)),
		       SUM(CAST(ROUND(CASE WHEN current_score < 0 THEN 0 WHEN current_score > max_score THEN max_score ELSE current_score END * 1000000) AS BIGINT))
		FROM recommendations WHERE id IN (
			SELECT id FROM recommendations WHERE unscored = ?
			UNION SELECT id FROM recommendations WHERE retired_at IS NOT NULL` + catalog + `)
		GROUP BY category, source, state`
}

// countingActions is the condition an action must meet to count toward the
// score when the score is summed from the actions themselves (one source's,
// the user recommendations'): the same rule notCounting applies to the kept
// totals.
const countingActions = `unscored = ? AND retired_at IS NULL
	AND (source_tool <> 'catalog' OR NOT EXISTS (SELECT 1 FROM posture_imports))`

// sourceScore is the score of one posture source's actions alone: what the
// source's own figures are compared with.
func sourceScore(ctx context.Context, tx *tx, sourceID string) (scorebridge.Score, error) {
	return scoreWhere(ctx, tx, " AND source_id = ?", []any{sourceID})
}

// userScore is the score of the user recommendations alone, shown apart
// from imported data: from the kept totals, as the home page reads it on
// every request.
func userScore(ctx context.Context, tx *tx) (scorebridge.Score, error) {
	return keptScore(ctx, tx, scorebridge.SourceUser)
}

func scoreWhere(ctx context.Context, tx *tx, cond string, args []any) (scorebridge.Score, error) {
	rows, err := tx.QueryContext(ctx, `
		SELECT category, state, SUM(max_score),
		       SUM(CASE WHEN current_score < 0 THEN 0
		                WHEN current_score > max_score THEN max_score
		                ELSE current_score END)
		FROM recommendations
		WHERE `+countingActions+cond+`
		GROUP BY category, state`, append([]any{false}, args...)...)
	if err != nil {
		return scorebridge.Score{}, fmt.Errorf("compute score: %w", err)
	}
	defer rows.Close()
	var items []scorebridge.ScoreItem
	for rows.Next() {
		var it scorebridge.ScoreItem
		if err := rows.Scan(&it.Category, &it.State, &it.MaxScore, &it.CurrentScore); err != nil {
			return scorebridge.Score{}, fmt.Errorf("compute score: %w", err)
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return scorebridge.Score{}, fmt.Errorf("compute score: %w", err)
	}
	return scorebridge.ComputeScore(items), nil
}
