package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// TestDB_ReadsDoNotWaitForAWrite holds a write transaction open (on SQLite,
// the write lock) and reads the score, the actions and the tickets meanwhile:
// the reads answer from the last commit instead of waiting behind the
// writer, and see the write once it commits.
func TestDB_ReadsDoNotWaitForAWrite(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db, _ := openTest(t, b)
		recs := sqlstore.NewRecommendationService(db)
		scores := sqlstore.NewScoreService(db)
		mustCreate(t, recs, asUser("alice"), newRec("mfa")) // 2.5 of 10

		// The guard only keeps a regression from hanging the run: with reads
		// queued behind the writer, nothing answers until the write ends.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		w, err := db.SQL.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Rollback()
		q := `UPDATE recommendations SET state = 'completed' WHERE id = 'mfa'`
		if _, err := w.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}

		for range 3 {
			got, err := scores.CurrentScore(ctx)
			if err != nil {
				t.Fatalf("read during a write: %v", err)
			}
			if got.CurrentScore != 2.5 {
				t.Fatalf("read during a write saw %v, want the committed 2.5", got.CurrentScore)
			}
			if _, _, err := recs.FindRecommendations(ctx, scoreFilterAll()); err != nil {
				t.Fatalf("list during a write: %v", err)
			}
		}
		if err := w.Commit(); err != nil {
			t.Fatal(err)
		}
		got, err := scores.CurrentScore(ctx)
		if err != nil || got.CurrentScore != 10 {
			t.Fatalf("after the commit: %v, %v; want 10", got.CurrentScore, err)
		}
	})
}

func scoreFilterAll() scorebridge.RecommendationFilter {
	return scorebridge.RecommendationFilter{Limit: scorebridge.MaxRecommendationPage}
}
