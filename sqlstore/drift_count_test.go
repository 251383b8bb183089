package sqlstore_test

import (
	"context"
	"testing"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// TestCountDrift: the home page's drift count follows drift as it is
// found, cleared and taken over by a new linked ticket.
func TestCountDrift(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db, _ := openTest(t, b)
		ctx := context.Background()
		tickets, drift, tracking := sqlstore.NewTicketStore(db), sqlstore.NewDriftStore(db), trackingStore(t, db)
		want := func(n int) {
			t.Helper()
			got, err := drift.CountDrift(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got != (scorebridge.DriftCount{Tickets: n}) {
				t.Fatalf("drift count %+v, want %d", got, n)
			}
		}
		want(0)
		for _, id := range []string{"t1", "t2", "t3"} {
			sentTicket(t, tickets, id, "c1", scorebridge.TicketIncident, "sys-"+id, "6")
		}
		for _, id := range []string{"t1", "t2"} {
			if fresh, err := drift.StartDrift(ctx, id, scorebridge.DriftFinished); err != nil || !fresh {
				t.Fatalf("start drift %s: %v %v", id, fresh, err)
			}
		}
		// Seen again, a drift counts once.
		if _, err := drift.StartDrift(ctx, "t1", scorebridge.DriftFinished); err != nil {
			t.Fatal(err)
		}
		want(2)
		if err := tracking.SetDrift(ctx, "t1", false); err != nil {
			t.Fatal(err)
		}
		want(1)
	})
}
