package sqlstore_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// scoreOfRows is ComputeScore over every stored action, read back through
// the recommendation store.
func scoreOfRows(t *testing.T, s scorebridge.RecommendationService) scorebridge.Score {
	t.Helper()
	return scoreOfSource(t, s, "")
}

// scoreOfSource is scoreOfRows over one source's actions ("" for all).
func scoreOfSource(t *testing.T, s scorebridge.RecommendationService, source scorebridge.Source) scorebridge.Score {
	t.Helper()
	var items []scorebridge.ScoreItem
	f := scorebridge.RecommendationFilter{Limit: scorebridge.MaxRecommendationPage}
	for {
		recs, next, err := s.FindRecommendations(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if source != "" && r.Source != source {
				continue
			}
			items = append(items, scorebridge.ScoreItem{Category: r.Category, Source: r.Source, State: r.State, MaxScore: r.MaxScore, CurrentScore: r.CurrentScore})
		}
		if next == "" {
			return scorebridge.ComputeScore(items)
		}
		f.Cursor = next
	}
}

func TestScore_Current(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db, _ := openTest(t, b)
		recs := sqlstore.NewRecommendationService(db)
		scores := sqlstore.NewScoreService(db)
		ctx := context.Background()

		empty, err := scores.CurrentScore(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(empty, scorebridge.ComputeScore(nil)) || len(empty.Categories) != len(scorebridge.Categories) {
			t.Fatalf("empty score: %+v", empty)
		}

		for i, c := range scorebridge.Categories {
			r := newRec(fmt.Sprintf("r%d", i))
			r.Category, r.MaxScore, r.CurrentScore = c, float64(10+i), 3
			r.State = scorebridge.States[i]
			mustCreate(t, recs, ctx, r)
		}
		// to_address 3/10, planned 3/11, risk_accepted 0/12, third_party 13/13, completed 14/14.
		got, err := scores.CurrentScore(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got.CurrentScore != 33 || got.MaxScore != 60 || got.Percent != 55 {
			t.Fatalf("score = %+v, want 33 of 60 (55%%)", got)
		}
		if !reflect.DeepEqual(got, scoreOfRows(t, recs)) {
			t.Fatalf("score %+v differs from ComputeScore of the rows %+v", got, scoreOfRows(t, recs))
		}

		// Walk one action through every state: the score follows each time.
		var seen []float64
		for _, st := range scorebridge.States {
			if _, err := recs.UpdateRecommendation(ctx, "r0", scorebridge.RecommendationUpdate{State: ptr(st)}); err != nil {
				t.Fatal(err)
			}
			got, err := scores.CurrentScore(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if want := scoreOfRows(t, recs); !reflect.DeepEqual(got, want) {
				t.Fatalf("state %s: score %+v, want %+v", st, got, want)
			}
			seen = append(seen, got.Categories[0].CurrentScore)
		}
		// Identity: to_address 3, planned 3, risk_accepted 0, third_party 10, completed 10.
		if want := []float64{3, 3, 0, 10, 10}; !reflect.DeepEqual(seen, want) {
			t.Fatalf("identity score through the states: %v, want %v", seen, want)
		}

		// Partial credit moves with current score.
		if _, err := recs.UpdateRecommendation(ctx, "r0", scorebridge.RecommendationUpdate{State: ptr(scorebridge.StateToAddress), CurrentScore: ptr(7.5)}); err != nil {
			t.Fatal(err)
		}
		got, err = scores.CurrentScore(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got.Categories[0].CurrentScore != 7.5 || got.Categories[0].Percent != 75 {
			t.Fatalf("identity after partial credit: %+v", got.Categories[0])
		}
	})
}

func TestScore_Snapshots(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db, clock := openTest(t, b)
		recs := sqlstore.NewRecommendationService(db)
		scores := sqlstore.NewScoreService(db)
		ctx := context.Background()
		mustCreate(t, recs, ctx, newRec("mfa")) // 2.5 of 10

		clock.Set(time.Date(2026, 11, 23, 23, 59, 0, 0, time.UTC))
		day1, err := scores.SnapshotScore(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if day1.Day != "2026-11-23" || day1.Score.CurrentScore != 2.5 || !day1.TakenAt.Equal(clock.Now()) {
			t.Fatalf("first snapshot: %+v", day1)
		}

		// Next day, in a time zone where it is still the 23rd: the UTC day counts.
		clock.Set(time.Date(2026, 11, 23, 20, 30, 0, 0, time.FixedZone("EST", -5*3600)))
		if _, err := recs.UpdateRecommendation(ctx, "mfa", scorebridge.RecommendationUpdate{State: ptr(scorebridge.StateCompleted)}); err != nil {
			t.Fatal(err)
		}
		if _, err := scores.SnapshotScore(ctx); err != nil {
			t.Fatal(err)
		}
		// Later the same day the action goes back: the day's snapshot is replaced.
		clock.Advance(time.Hour)
		if _, err := recs.UpdateRecommendation(ctx, "mfa", scorebridge.RecommendationUpdate{State: ptr(scorebridge.StatePlanned)}); err != nil {
			t.Fatal(err)
		}
		day2, err := scores.SnapshotScore(ctx)
		if err != nil {
			t.Fatal(err)
		}

		clock.Advance(48 * time.Hour) // 2026-11-26, nothing taken on the 25th
		hist, err := scores.ScoreHistory(ctx, 4)
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != 2 {
			t.Fatalf("history of 4 days has %d snapshots, want 2", len(hist))
		}
		if hist[0].Day != "2026-11-23" || hist[1].Day != "2026-11-24" {
			t.Fatalf("history days %s, %s", hist[0].Day, hist[1].Day)
		}
		if !reflect.DeepEqual(hist[0], day1) || !reflect.DeepEqual(hist[1], day2) {
			t.Fatalf("history\n%+v\n%+v\nwant\n%+v\n%+v", hist[0], hist[1], day1, day2)
		}
		if hist[1].Score.CurrentScore != 2.5 {
			t.Fatalf("replaced snapshot kept score %v", hist[1].Score.CurrentScore)
		}

		// The window ends today and reaches back days-1 days.
		for days, want := range map[int]int{1: 0, 2: 0, 3: 1, 4: 2, 365: 2} {
			hist, err := scores.ScoreHistory(ctx, days)
			if err != nil || len(hist) != want {
				t.Errorf("ScoreHistory(%d): %d snapshots, %v; want %d", days, len(hist), err, want)
			}
		}
		for _, days := range []int{0, -1, sqlstore.MaxScoreHistoryDays + 1} {
			_, err := scores.ScoreHistory(ctx, days)
			wantCode(t, err, scorebridge.EINVALID, "days")
		}
	})
}
