package sqlstore

import (
	"context"
	"fmt"
	"strings"
)

// scoreGroup is one row of score_totals: the sums of one category, source
// and state.
type scoreGroup struct {
	category, source, state string
}

type scoreSums struct {
	actions, maxMicro, currentMicro int64
}

// VerifyScoreTotals recomputes the score's sums from every action and
// compares them with the totals the triggers keep, returning an error naming
// each group that differs. It reads the whole table: a check for tests and
// for an operator who doubts the score, not for serving pages.
func (db *DB) VerifyScoreTotals(ctx context.Context) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()

	micro := func(col string) string {
		if db.Dialect == DialectPostgres {
			return "score_micro(" + col + ")"
		}
		return "CAST(ROUND(" + col + " * 1000000) AS INTEGER)"
	}
	clamp := "MIN(MAX(current_score, 0), max_score)"
	if db.Dialect == DialectPostgres {
		clamp = "LEAST(GREATEST(current_score, 0), max_score)"
	}
	want, err := readScoreGroups(ctx, tx, `
		SELECT category, source, state, COUNT(*), SUM(`+micro("max_score")+`), SUM(`+micro(clamp)+`)
		FROM recommendations GROUP BY category, source, state`)
	if err != nil {
		return fmt.Errorf("recompute score totals: %w", err)
	}
	got, err := readScoreGroups(ctx, tx, `
		SELECT category, source, state, actions, max_micro, current_micro
		FROM score_totals WHERE actions <> 0 OR max_micro <> 0 OR current_micro <> 0`)
	if err != nil {
		return fmt.Errorf("read score totals: %w", err)
	}
	var diffs []string
	for g, w := range want {
		if got[g] != w {
			diffs = append(diffs, fmt.Sprintf("%s/%s/%s: kept %+v, recomputed %+v", g.category, g.source, g.state, got[g], w))
		}
	}
	for g, k := range got {
		if _, ok := want[g]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s/%s/%s: kept %+v for no action", g.category, g.source, g.state, k))
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("score totals differ from the actions: %s", strings.Join(diffs, "; "))
	}
	return nil
}

func readScoreGroups(ctx context.Context, tx *tx, query string) (map[scoreGroup]scoreSums, error) {
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[scoreGroup]scoreSums{}
	for rows.Next() {
		var g scoreGroup
		var s scoreSums
		if err := rows.Scan(&g.category, &g.source, &g.state, &s.actions, &s.maxMicro, &s.currentMicro); err != nil {
			return nil, err
		}
		m[g] = s
	}
	return m, rows.Err()
}
