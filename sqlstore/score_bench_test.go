package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// fillActions inserts n actions in one statement, through the triggers like
// any writer, spread over every category, source and state.
func fillActions(b *testing.B, db *sqlstore.DB, n int) {
	b.Helper()
	cats := "CASE i % 5"
	for i, c := range scorebridge.Categories {
		cats += fmt.Sprintf(" WHEN %d THEN '%s'", i, c)
	}
	cats += " END"
	states := "CASE i % 5"
	for i, s := range scorebridge.States {
		states += fmt.Sprintf(" WHEN %d THEN '%s'", i, s)
	}
	states += " END"
	at := "'2026-11-25T09:30:00.000000Z'"
	q := `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ` + fmt.Sprint(n) + `)
		INSERT INTO recommendations (id, title, category, source, max_score, current_score, state,
			created_by, created_at, updated_at, title_key, search_text)
		SELECT 'bench-' || i, 'Action ' || i, ` + cats + `, CASE WHEN i % 7 = 0 THEN 'user' ELSE 'microsoft' END,
			(i % 10) + 1, (i % 3) * 0.5, ` + states + `, 'bench', ` + at + `, ` + at + `, 'action ' || i, 'action ' || i
		FROM n`
	if _, err := db.SQL.ExecContext(context.Background(), q); err != nil {
		b.Fatalf("fill %d actions: %v", n, err)
	}
}

// BenchmarkScoreBySize reads the score at 500 to 500,000 actions. Kept is
// what pages pay (the totals the triggers keep); recomputed is the reference,
// summing every action as the score did before, measured in the same run.
// "x-of-500" is each size's cost over the cost at 500 actions: flat means
// near 1 for kept, growing with the size for recomputed.
//
//	go test -run '^$' -bench ScoreBySize -benchtime 200x ./sqlstore/
func BenchmarkScoreBySize(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			db, _ := openTest(b, be)
			scores := sqlstore.NewScoreService(db)
			ctx := context.Background()
			have := 0
			var base [2]float64
			for _, size := range []int{500, 5000, 50000, 500000} {
				// Grow the same database: only the new actions are inserted.
				if _, err := db.SQL.ExecContext(ctx, `DELETE FROM recommendations`); err != nil {
					b.Fatal(err)
				}
				fillActions(b, db, size)
				have = size
				for k, read := range []struct {
					name string
					f    func() error
				}{
					{"kept", func() error { _, err := scores.CurrentScore(ctx); return err }},
					{"recomputed", func() error { return recomputeScore(ctx, db) }},
				} {
					b.Run(fmt.Sprintf("%s/actions=%d", read.name, have), func(b *testing.B) {
						start := time.Now()
						for b.Loop() {
							if err := read.f(); err != nil {
								b.Fatal(err)
							}
						}
						per := float64(time.Since(start).Nanoseconds()) / float64(b.N)
						if size == 500 {
							base[k] = per
						}
						if base[k] > 0 {
							b.ReportMetric(per/base[k], "x-of-500")
						}
					})
				}
			}
		})
	}
}

// recomputeScore is the full recomputation: every action's four columns
// summed on each read.
func recomputeScore(ctx context.Context, db *sqlstore.DB) error {
	rows, err := db.SQL.QueryContext(ctx, `
		SELECT category, state, SUM(max_score),
		       SUM(CASE WHEN current_score < 0 THEN 0 WHEN current_score > max_score THEN max_score ELSE current_score END)
		FROM recommendations GROUP BY category, state`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var items []scorebridge.ScoreItem
	for rows.Next() {
		var it scorebridge.ScoreItem
		if err := rows.Scan(&it.Category, &it.State, &it.MaxScore, &it.CurrentScore); err != nil {
			return err
		}
		items = append(items, it)
	}
	scorebridge.ComputeScore(items)
	return rows.Err()
}
