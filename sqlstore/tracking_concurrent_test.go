package sqlstore_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/sqlstore"
	"github.com/scorebridge/scorebridge/tracking"
)

// TestApplyChanges_Concurrent: two syncs (or a sync and a push) storing
// changes to the same tickets at once, in opposite orders and each moving
// the kept overdue counts of several due dates, both succeed and lose
// nothing: on PostgreSQL neither is broken off as a deadlock, and the
// tickets end at the newest change of each.
func TestApplyChanges_Concurrent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		conns, db, _ := newConnectionStore(t, b)
		mustCreateConnection(t, conns, "c1", "https://a.service-now.com")
		ts := sqlstore.NewTicketStore(db)
		st := trackingStore(t, db)
		const n = 40
		var ids []string
		for i := range n {
			id := fmt.Sprintf("t%02d", i)
			ids = append(ids, id)
			x := testTicket(id, "r-x")
			x.Type, x.ConnectionID, x.DueDate = scorebridge.TicketIncident, "c1", fmt.Sprintf("2026-11-%02d", 1+i%20)
			if err := ts.InsertTickets(ctx, []*scorebridge.Ticket{x}, func(context.Context, sqlstore.TicketTx, []string) error { return nil }); err != nil {
				t.Fatal(err)
			}
			if err := ts.MarkTicketSent(ctx, id, sqlstore.TicketResult{Number: "N" + id, SysID: "sys-" + id, State: "1"}, nil); err != nil {
				t.Fatal(err)
			}
		}
		page := func(ids []string, mod int, state string) []scorebridge.RecordChange {
			var out []scorebridge.RecordChange
			for _, id := range ids {
				out = append(out, scorebridge.RecordChange{SysID: "sys-" + id, ModCount: mod, State: state, Source: "sync"})
			}
			return out
		}
		reversed := slices.Clone(ids)
		slices.Reverse(reversed)
		for round := 1; round <= 10; round++ {
			// One opens the tickets (In Progress), the other resolves them
			// one mod count later: whichever commits second, the resolution
			// stands, and every ticket leaves the overdue count.
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for k, p := range [][]scorebridge.RecordChange{page(ids, 2*round, "2"), page(reversed, 2*round+1, "6")} {
				wg.Go(func() {
					_, errs[k] = st.ApplyChanges(ctx, "c1", p, tracking.StateName, "")
					if k == 1 && errs[k] == nil {
						errs[k] = st.MarkSeen(ctx, reversed)
					}
				})
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
			}
			for _, id := range ids {
				got, err := ts.FindTicketByID(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if got.State != "6" {
					t.Fatalf("round %d: ticket %s in state %q, want the newer change's 6", round, id, got.State)
				}
			}
			overdue, err := ts.CountOverdue(ctx, "2027-01-01")
			if err != nil {
				t.Fatal(err)
			}
			if overdue != 0 {
				t.Fatalf("round %d: %d overdue, want 0: every ticket is resolved", round, overdue)
			}
		}
	})
}
