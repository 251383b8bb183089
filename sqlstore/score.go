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
	// score_totals holds, per category, source and state, the sums the
	// triggers keep on every change to an action: a few dozen rows however
	// many actions there are. Earned points depend only on the state and are
	// linear in the scores, so ComputeScore over the group sums gives what it
	// would over every row.
	rows, err := tx.QueryContext(ctx, `
		SELECT category, source, state, max_micro, current_micro
		FROM score_totals WHERE actions > 0`)
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
		it.MaxScore, it.CurrentScore = float64(maxMicro)/microPoints, float64(curMicro)/microPoints
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return scorebridge.Score{}, fmt.Errorf("read score: %w", err)
	}
	return scorebridge.ComputeScore(items), nil
}
