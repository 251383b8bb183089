package sqlstore_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/sqlstore"
	"github.com/scorebridge/scorebridge/tracking"
)

// TestSLAKept_FollowsEveryChange: the overdue count and the close times the
// triggers keep are what the tickets say, after sends, resolutions, a
// closed change, times the instance did not write as date-times, a reopen,
// a deletion in ServiceNow and a row deleted outright.
func TestSLAKept_FollowsEveryChange(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		conns, db, clock := newConnectionStore(t, b)
		mustCreateConnection(t, conns, "c1", "https://a.service-now.com")
		ts := sqlstore.NewTicketStore(db)
		st := trackingStore(t, db)
		sent := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
		clock.Set(sent)
		at := func(d time.Duration) string { return sent.Add(d).Format("2006-01-02 15:04:05") }
		id, dev := scorebridge.CategoryIdentity, scorebridge.CategoryDevices
		action := func(c scorebridge.Category) scorebridge.TicketAction {
			return scorebridge.TicketAction{ID: "r-" + string(c), Title: "x", Source: scorebridge.SourceUser, Category: c}
		}
		mod := map[string]int{}
		apply := func(tid string, c scorebridge.RecordChange) {
			t.Helper()
			mod[tid]++
			c.SysID, c.ModCount, c.Source = "sys-"+tid, mod[tid], "sync"
			if _, err := st.ApplyChanges(ctx, "c1", []scorebridge.RecordChange{c}, tracking.StateName, ""); err != nil {
				t.Fatal(err)
			}
		}
		for _, tk := range []struct {
			id      string
			typ     scorebridge.TicketType
			due     string
			actions []scorebridge.TicketAction
		}{
			{"t1", scorebridge.TicketIncident, "2026-12-31", []scorebridge.TicketAction{action(id)}},
			// Grouped: counts once in each category, however many actions.
			{"t2", scorebridge.TicketIncident, "", []scorebridge.TicketAction{action(id), action(dev), action(id)}},
			{"t3", scorebridge.TicketIncident, "", []scorebridge.TicketAction{action(dev)}},
			{"t4", scorebridge.TicketChange, "2026-11-01", []scorebridge.TicketAction{action(id)}},
			{"t5", scorebridge.TicketIncident, "", []scorebridge.TicketAction{action(id)}},
			{"t6", scorebridge.TicketIncident, "", []scorebridge.TicketAction{action(id)}},
			{"t7", scorebridge.TicketIncident, "2026-12-01", []scorebridge.TicketAction{action(id)}},
			{"t8", scorebridge.TicketIncident, "2026-11-30", []scorebridge.TicketAction{action(id)}}, // never sent
		} {
			x := testTicket(tk.id, "r-x")
			x.Type, x.ConnectionID, x.DueDate, x.Actions = tk.typ, "c1", tk.due, tk.actions
			if err := ts.InsertTickets(ctx, []*scorebridge.Ticket{x}, func(context.Context, sqlstore.TicketTx, []string) error { return nil }); err != nil {
				t.Fatal(err)
			}
			if tk.id == "t8" {
				continue
			}
			if err := ts.MarkTicketSent(ctx, tk.id, sqlstore.TicketResult{Number: "N" + tk.id, SysID: "sys-" + tk.id, State: "1"}, nil); err != nil {
				t.Fatal(err)
			}
		}
		apply("t1", scorebridge.RecordChange{State: "6", ResolvedAt: at(30 * time.Minute)})
		apply("t2", scorebridge.RecordChange{State: "6", ResolvedAt: at(5*time.Hour + 10*time.Minute)})
		apply("t3", scorebridge.RecordChange{State: "7", ResolvedAt: at(77 * time.Hour), ClosedAt: at(90 * time.Hour)})
		apply("t4", scorebridge.RecordChange{State: "3", ClosedAt: at(2 * time.Hour)})
		apply("t5", scorebridge.RecordChange{State: "6", ResolvedAt: "soon"})
		apply("t6", scorebridge.RecordChange{State: "6", ResolvedAt: at(-time.Hour)})
		apply("t7", scorebridge.RecordChange{State: "2"})

		check := func(phase string, want []scorebridge.CloseTime, overdue map[string]int) {
			t.Helper()
			got, err := ts.CloseTimes(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: close times\n%+v, want\n%+v", phase, got, want)
			}
			for before, n := range overdue {
				got, err := ts.CountOverdue(ctx, before)
				if err != nil {
					t.Fatal(err)
				}
				var recount int
				if err := db.SQL.QueryRowContext(ctx, `SELECT COUNT(*) FROM tickets WHERE status = 'sent' AND due_date <> '' AND due_date < '`+before+`' AND state_class IN ('', 'open')`).Scan(&recount); err != nil {
					t.Fatal(err)
				}
				if got != n || recount != n {
					t.Errorf("%s: overdue before %s: kept %d, recount %d, want %d", phase, before, got, recount, n)
				}
			}
		}
		// Identity: t1 under an hour, t4 2 h (closed), t2 5 h; Devices: t2
		// 5 h, t3 77 h (resolved; the close after it does not count), in
		// tenths of a day 76.8 h. t5 and t6 are left out.
		check("finished", []scorebridge.CloseTime{
			{Category: id, Tickets: 3, Median: 2 * time.Hour, P90: 5 * time.Hour},
			{Category: dev, Tickets: 2, Median: 5 * time.Hour, P90: 76*time.Hour + 48*time.Minute},
		}, map[string]int{"2026-12-01": 0, "2026-12-02": 1, "2027-01-01": 1})

		// t1 reopened: open again, due on the 31st; t3 deleted in
		// ServiceNow; t2's row deleted.
		apply("t1", scorebridge.RecordChange{State: "2"})
		apply("t3", scorebridge.RecordChange{Deleted: true})
		if _, err := db.SQL.ExecContext(ctx, `DELETE FROM tickets WHERE id = 't2'`); err != nil {
			t.Fatal(err)
		}
		check("changed", []scorebridge.CloseTime{{Category: id, Tickets: 1, Median: 2 * time.Hour, P90: 2 * time.Hour}},
			map[string]int{"2026-12-02": 1, "2027-01-01": 2})
	})
}
