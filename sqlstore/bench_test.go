package sqlstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// benchActions is the size of a large tenant's action list.
const benchActions = 5000

// openBench opens a database of backend b holding benchActions actions.
func openBench(b *testing.B, be backend) *sqlstore.DB {
	b.Helper()
	db, _ := openTest(b, be)
	recs := make([]*scorebridge.Recommendation, benchActions)
	for i := range recs {
		r := newRec(fmt.Sprintf("action-%05d", i))
		r.Title = fmt.Sprintf("Action %d about %s", i, []string{"MFA", "DLP", "BitLocker", "OAuth apps", "firewall"}[i%5])
		r.Category = scorebridge.Categories[i%len(scorebridge.Categories)]
		r.State = scorebridge.States[i%len(scorebridge.States)]
		r.MaxScore, r.CurrentScore = float64(i%10+1), float64(i%3)/2
		r.Raw = []byte(fmt.Sprintf(`{"id":"action-%05d","controlName":"x","score":%d}`, i, i%10))
		recs[i] = r
	}
	if n, err := sqlstore.NewRecommendationService(db).SeedRecommendations(context.Background(), recs); err != nil || n != benchActions {
		b.Fatalf("seed: %d, %v", n, err)
	}
	return db
}

func BenchmarkCurrentScore(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			scores := sqlstore.NewScoreService(openBench(b, be))
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := scores.CurrentScore(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkFindRecommendations(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			s := sqlstore.NewRecommendationService(openBench(b, be))
			ctx := context.Background()
			// A cursor deep into the title order, as when paging far.
			deep := scorebridge.RecommendationFilter{Sort: scorebridge.SortTitle}
			for range 40 {
				_, next, err := s.FindRecommendations(ctx, deep)
				if err != nil {
					b.Fatal(err)
				}
				deep.Cursor = next
			}
			for _, tc := range []struct {
				name   string
				filter scorebridge.RecommendationFilter
			}{
				{"impact-first-page", scorebridge.RecommendationFilter{}},
				{"todo-page-max", scorebridge.RecommendationFilter{ToDo: true, Limit: scorebridge.MaxRecommendationPage}},
				{"search", scorebridge.RecommendationFilter{Query: "oauth"}},
				{"title-page-41", deep},
				{"updated-category", scorebridge.RecommendationFilter{Sort: scorebridge.SortUpdated, Category: scorebridge.CategoryData}},
			} {
				b.Run(tc.name, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						items, _, err := s.FindRecommendations(ctx, tc.filter)
						if err != nil || len(items) == 0 {
							b.Fatalf("%d items, %v", len(items), err)
						}
					}
				})
			}
		})
	}
}
