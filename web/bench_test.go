package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
)

// benchActions is the size of the center the benchmarks render: a large
// tenant's worth of imported actions.
const benchActions = 5000

// benchSetup returns a server on SQLite holding the catalog plus generated
// actions up to benchActions, in a spread of categories and states, with 30
// days of score history.
func benchSetup(b *testing.B) *testBundle {
	b.Helper()
	bundle := setup(b, setupOptions{})
	ctx := context.Background()
	existing, _, err := bundle.recs.FindRecommendations(ctx, scorebridge.RecommendationFilter{Limit: scorebridge.MaxRecommendationPage})
	if err != nil {
		b.Fatal(err)
	}
	var recs []*scorebridge.Recommendation
	for i := len(existing); i < benchActions; i++ {
		recs = append(recs, &scorebridge.Recommendation{
			ID:           fmt.Sprintf("bench-%05d", i),
			Title:        fmt.Sprintf("Generated improvement action %d", i),
			Description:  "An action generated for the benchmark.",
			Remediation:  "<p>Follow the <a href=\"https://example.com/doc\">guide</a>.</p>",
			Category:     scorebridge.Categories[i%len(scorebridge.Categories)],
			Source:       scorebridge.SourceMicrosoft,
			SourceTool:   scorebridge.ToolGraph,
			Service:      "Service",
			Threats:      []string{"Account breach"},
			MaxScore:     float64(1 + i%10),
			CurrentScore: float64(i%3) / 2,
			State:        scorebridge.States[i%len(scorebridge.States)],
		})
	}
	if _, err := bundle.recs.SeedRecommendations(ctx, recs); err != nil {
		b.Fatal(err)
	}
	day := bundle.db.Now
	for d := 29; d >= 0; d-- {
		at := day().AddDate(0, 0, -d)
		bundle.db.Now = func() time.Time { return at }
		if _, err := bundle.scores.SnapshotScore(ctx); err != nil {
			b.Fatal(err)
		}
	}
	bundle.db.Now = day
	return bundle
}

// benchPage serves path through the real handler (middleware, store,
// templates) without the network, so the figure is the server's own cost.
func benchPage(b *testing.B, h http.Handler, path string) {
	b.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	b.ReportAllocs()
	for b.Loop() {
		rr := httptest.NewRecorder()
		h.ServeHTTP(rr, req)
		if rr.Code != http.StatusOK {
			b.Fatalf("%s: status %d", path, rr.Code)
		}
	}
}

func BenchmarkHomePage(b *testing.B) {
	bundle := benchSetup(b)
	benchPage(b, bundle.server.Handler(), "/")
}

func BenchmarkActionsList(b *testing.B) {
	bundle := benchSetup(b)
	h := bundle.server.Handler()
	b.Run("default", func(b *testing.B) { benchPage(b, h, "/actions") })
	b.Run("filtered", func(b *testing.B) { benchPage(b, h, "/actions?category=Data&state=to_address&sort=title&q=action") })
	b.Run("api", func(b *testing.B) { benchPage(b, h, "/api/v1/recommendations?limit=50") })
}
