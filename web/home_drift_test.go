package web

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// driftCardCount reads the home page's Drift card count, "" without the
// card.
func driftCardCount(t *testing.T, b *trackedBundle) string {
	t.Helper()
	home := b.get(t, "/").wantStatus(t, http.StatusOK)
	m := regexp.MustCompile(`id="drift-card-count">([^<]*)<`).FindStringSubmatch(home.body)
	if m == nil {
		return ""
	}
	if !strings.Contains(home.body, `id="drift-card-view" href="/drift"`) {
		t.Fatal("the Drift card does not link to the Drift page")
	}
	return m[1]
}

// TestHomeDriftCard: the home page's Drift card and the summary API count
// a drift once it is recorded, and no more once it is resolved.
func TestHomeDriftCard(t *testing.T) {
	t.Parallel()
	b := trackedSetup(t)
	if n := driftCardCount(t, b); n != "0" {
		t.Fatalf("drift card before any drift: %q, want 0", n)
	}
	created := b.sent(t, &scorebridge.Ticket{ID: "i1", RecommendationIDs: []string{"x"}, Type: scorebridge.TicketIncident, Name: "Turn on MFA", ConnectionID: b.conn.ID})
	b.sent(t, &scorebridge.Ticket{ID: "i2", RecommendationIDs: []string{"x"}, Type: scorebridge.TicketIncident, Name: "Encrypt disks", ConnectionID: b.conn.ID})
	if fresh, err := sqlstore.NewDriftStore(b.db).StartDrift(t.Context(), created.ID, scorebridge.DriftFinished); err != nil || !fresh {
		t.Fatalf("start drift: %v %v", fresh, err)
	}
	if n := driftCardCount(t, b); n != "1" {
		t.Fatalf("drift card after a drift: %q, want 1", n)
	}
	var sum struct {
		Drift *scorebridge.DriftCount `json:"drift"`
	}
	b.get(t, "/api/v1/tickets/summary").wantStatus(t, http.StatusOK).decode(t, &sum)
	if sum.Drift == nil || *sum.Drift != (scorebridge.DriftCount{Tickets: 1}) {
		t.Fatalf("summary drift %+v, want 1", sum.Drift)
	}
	// The ticket reopened (or the control achieved): no longer drift.
	if err := sqlstore.NewTrackingStore(b.db, nil).SetDrift(t.Context(), created.ID, false); err != nil {
		t.Fatal(err)
	}
	if n := driftCardCount(t, b); n != "0" {
		t.Fatalf("drift card after the drift was resolved: %q, want 0", n)
	}
	b.get(t, "/api/v1/tickets/summary").wantStatus(t, http.StatusOK).decode(t, &sum)
	if sum.Drift == nil || *sum.Drift != (scorebridge.DriftCount{}) {
		t.Fatalf("summary drift after the drift was resolved %+v, want 0", sum.Drift)
	}
}
