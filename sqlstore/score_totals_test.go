package sqlstore_test

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// checkScoreKept asserts the kept totals equal a full recomputation, and the
// score read from them equals ComputeScore over every action.
func checkScoreKept(t *testing.T, db *sqlstore.DB, recs scorebridge.RecommendationService, after string) {
	t.Helper()
	ctx := context.Background()
	if err := db.VerifyScoreTotals(ctx); err != nil {
		t.Fatalf("after %s: %v", after, err)
	}
	got, err := sqlstore.NewScoreService(db).CurrentScore(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := scoreOfRows(t, recs)
	near := func(a, b float64) bool { return math.Abs(a-b) <= 0.011 }
	bad := !near(got.CurrentScore, want.CurrentScore) || !near(got.MaxScore, want.MaxScore) || !near(got.Percent, want.Percent)
	for i := range want.Categories {
		g, w := got.Categories[i], want.Categories[i]
		bad = bad || g.Category != w.Category || !near(g.CurrentScore, w.CurrentScore) || !near(g.MaxScore, w.MaxScore)
	}
	for i := range want.Sources {
		g, w := got.Sources[i], want.Sources[i]
		bad = bad || g.Source != w.Source || !near(g.CurrentScore, w.CurrentScore) || !near(g.MaxScore, w.MaxScore)
	}
	if bad {
		t.Fatalf("after %s: kept score %+v, recomputed %+v", after, got, want)
	}
	// The user recommendations' own score, read from the same totals.
	user, err := sqlstore.NewPostureStore(db, nil).UserScore(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if w := scoreOfSource(t, recs, scorebridge.SourceUser); !near(user.CurrentScore, w.CurrentScore) || !near(user.MaxScore, w.MaxScore) || len(user.Categories) != len(w.Categories) {
		t.Fatalf("after %s: kept user score %+v, recomputed %+v", after, user, w)
	}
}

// TestScoreTotals_KeptThroughEveryChange walks the actions through every kind
// of change that moves the score, on each back end, and after each one checks
// the totals the database keeps against a recomputation from every row.
func TestScoreTotals_KeptThroughEveryChange(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db, _ := openTest(t, b)
		recs := sqlstore.NewRecommendationService(db)
		ctx := asUser("alice")
		checkScoreKept(t, db, recs, "nothing")

		// Create, one by one.
		for i := range 12 {
			r := newRec(fmt.Sprintf("r%02d", i))
			r.Category = scorebridge.Categories[i%len(scorebridge.Categories)]
			r.State = scorebridge.States[i%len(scorebridge.States)]
			r.MaxScore = float64(i%4) + 0.333333
			r.CurrentScore = r.MaxScore * float64(i%5) / 4
			mustCreate(t, recs, ctx, r)
		}
		checkScoreKept(t, db, recs, "create")

		// Seed (the catalog's and an import's path), Microsoft's actions among them.
		var seed []*scorebridge.Recommendation
		for i := range 30 {
			r := newRec(fmt.Sprintf("m%02d", i))
			r.Source, r.SourceTool = scorebridge.SourceMicrosoft, scorebridge.ToolGraph
			r.Category = scorebridge.Categories[(i*3)%len(scorebridge.Categories)]
			r.MaxScore, r.CurrentScore = float64(i%9+1), float64(i%7)/7
			seed = append(seed, r)
		}
		if _, err := recs.SeedRecommendations(ctx, seed); err != nil {
			t.Fatal(err)
		}
		checkScoreKept(t, db, recs, "seed")

		// State changes, through every state.
		for _, st := range scorebridge.States {
			for _, id := range []string{"r03", "m07"} {
				if _, err := recs.UpdateRecommendation(ctx, id, scorebridge.RecommendationUpdate{State: ptr(st)}); err != nil {
					t.Fatal(err)
				}
			}
			checkScoreKept(t, db, recs, "state "+string(st))
		}

		// Edits: the achieved score, the maximum, the category.
		if _, err := recs.UpdateRecommendation(ctx, "m11", scorebridge.RecommendationUpdate{CurrentScore: ptr(0.1)}); err != nil {
			t.Fatal(err)
		}
		checkScoreKept(t, db, recs, "current score")
		if _, err := recs.UpdateRecommendation(ctx, "r05", scorebridge.RecommendationUpdate{MaxScore: ptr(7.125), CurrentScore: ptr(3.5)}); err != nil {
			t.Fatal(err)
		}
		checkScoreKept(t, db, recs, "max score")
		if _, err := recs.UpdateRecommendation(ctx, "r06", scorebridge.RecommendationUpdate{Category: ptr(scorebridge.CategoryInfrastructure)}); err != nil {
			t.Fatal(err)
		}
		checkScoreKept(t, db, recs, "category")

		// An edit that moves nothing the score reads.
		if _, err := recs.UpdateRecommendation(ctx, "r07", scorebridge.RecommendationUpdate{Title: ptr("Renamed")}); err != nil {
			t.Fatal(err)
		}
		checkScoreKept(t, db, recs, "title")

		// Delete.
		for _, id := range []string{"r00", "r01", "r02"} {
			if err := recs.DeleteRecommendation(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		checkScoreKept(t, db, recs, "delete")

		// A writer that goes around the stores (a bulk fix in SQL): the
		// triggers keep the totals all the same, achieved scores above the
		// maximum clamped as EarnedScore does.
		if _, err := db.SQL.ExecContext(ctx, `UPDATE recommendations SET state = 'completed', current_score = current_score + 1 WHERE source = 'microsoft'`); err != nil {
			t.Fatal(err)
		}
		checkScoreKept(t, db, recs, "bulk update")
		if _, err := db.SQL.ExecContext(ctx, `DELETE FROM recommendations WHERE source = 'user'`); err != nil {
			t.Fatal(err)
		}
		checkScoreKept(t, db, recs, "bulk delete")

		// A transaction that fails leaves the totals as they were.
		if _, err := recs.UpdateRecommendation(ctx, "m01", scorebridge.RecommendationUpdate{MaxScore: ptr(-1.0)}); err == nil {
			t.Fatal("a negative maximum was accepted")
		}
		checkScoreKept(t, db, recs, "refused edit")
	})
}

// TestScoreTotals_DetectsDrift makes sure the check can fail: totals changed
// behind the triggers' back are reported.
func TestScoreTotals_DetectsDrift(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db, _ := openTest(t, b)
		recs := sqlstore.NewRecommendationService(db)
		ctx := asUser("alice")
		mustCreate(t, recs, ctx, newRec("mfa"))
		if _, err := db.SQL.ExecContext(ctx, `UPDATE score_totals SET current_micro = current_micro + 1`); err != nil {
			t.Fatal(err)
		}
		if err := db.VerifyScoreTotals(ctx); err == nil {
			t.Fatal("totals one micro-point off passed the check")
		}
	})
}
