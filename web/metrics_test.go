package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/metrics"
)

// TestMetrics serves requests and reads /metrics: each request counted under
// its route pattern (never its path) and status, the Go runtime's figures
// beside them, and /metrics closed to anyone without a role.
func TestMetrics(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{metrics: metrics.New(), recs: []*scorebridge.Recommendation{testRecommendation("a1", "First"), testRecommendation("a2", "Second")}})
	b.get(t, "/api/v1/score").wantStatus(t, http.StatusOK)
	b.get(t, "/api/v1/recommendations/a1").wantStatus(t, http.StatusOK)
	b.get(t, "/api/v1/recommendations/a2").wantStatus(t, http.StatusOK)
	b.get(t, "/api/v1/recommendations/nope").wantStatus(t, http.StatusNotFound)

	body := b.get(t, "/metrics").wantStatus(t, http.StatusOK).body
	for _, want := range []string{
		`scorebridge_http_request_duration_seconds_count{code="200",route="GET /api/v1/score"} 1`,
		`scorebridge_http_request_duration_seconds_count{code="200",route="GET /api/v1/recommendations/{id}"} 2`,
		`scorebridge_http_request_duration_seconds_count{code="404",route="GET /api/v1/recommendations/{id}"} 1`,
		`go_goroutines `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(body, "/api/v1/recommendations/a1") {
		t.Error("/metrics labels a request by its path")
	}

	// Without a user (a center with sign-in), /metrics is not served.
	anon := setup(t, setupOptions{metrics: metrics.New(), user: &scorebridge.User{ID: "x", Name: "x", Role: "none"}})
	if r := anon.get(t, "/metrics"); r.StatusCode == http.StatusOK {
		t.Errorf("/metrics answered %d to a user without a role", r.StatusCode)
	}
}
