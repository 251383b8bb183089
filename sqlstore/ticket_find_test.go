package sqlstore_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/sqlstore"
	"github.com/scorebridge/scorebridge/tracking"
)

// TestTicketPage_FiltersAndPaging stores tickets of every kind and checks
// each filter selects exactly its tickets and that paging through any
// filter and sort returns every ticket once, in order.
func TestTicketPage_FiltersAndPaging(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		conns, db, clock := newConnectionStore(t, b)
		mustCreateConnection(t, conns, "c1", "https://a.service-now.com") // the default
		mustCreateConnection(t, conns, "c2", "https://b.service-now.com")
		ts := sqlstore.NewTicketStore(db)
		st := trackingStore(t, db)
		recs := sqlstore.NewRecommendationService(db)
		for _, r := range []*scorebridge.Recommendation{
			{ID: "r-id", Title: "MFA", Category: scorebridge.CategoryIdentity, Source: scorebridge.SourceUser, SourceTool: scorebridge.ToolUser, MaxScore: 1, State: scorebridge.StateToAddress},
			{ID: "r-dev", Title: "Disks", Category: scorebridge.CategoryDevices, Source: scorebridge.SourceUser, SourceTool: scorebridge.ToolUser, MaxScore: 1, State: scorebridge.StateToAddress},
		} {
			if err := recs.CreateRecommendation(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		clock.Set(time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC))
		type spec struct {
			id, conn, rec, state, assignee, due string
			typ                                 scorebridge.TicketType
			status                              scorebridge.TicketStatus
		}
		specs := []spec{
			{"inc-new", "", "r-id", "1", "", "", scorebridge.TicketIncident, scorebridge.TicketSent},
			{"inc-wip", "c1", "r-id", "2", "Beth Anglin", "2026-12-01", scorebridge.TicketIncident, scorebridge.TicketSent},   // overdue
			{"inc-done", "c1", "r-dev", "6", "Beth Anglin", "2026-12-01", scorebridge.TicketIncident, scorebridge.TicketSent}, // past due but resolved
			{"chg-new", "c2", "r-dev", "-5", "", "2027-01-10", scorebridge.TicketChange, scorebridge.TicketSent},
			{"chg-impl", "c2", "r-id", "-1", "David Loo", "", scorebridge.TicketChange, scorebridge.TicketSent},
			{"prb-new", "c1", "r-dev", "101", "", "", scorebridge.TicketProblem, scorebridge.TicketSent},
			{"inc-queued", "", "r-dev", "", "", "2026-11-30", scorebridge.TicketIncident, scorebridge.TicketQueued}, // past due, not sent yet
			{"chg-failed", "c2", "r-id", "", "", "", scorebridge.TicketChange, scorebridge.TicketFailed},
		}
		for i, sp := range specs {
			clock.Advance(time.Second)
			tk := testTicket(sp.id, sp.rec)
			tk.Type, tk.ConnectionID, tk.Name, tk.DueDate = sp.typ, sp.conn, fmt.Sprintf("Ticket %c %s", 'A'+i, sp.id), sp.due
			if err := ts.InsertTickets(ctx, []*scorebridge.Ticket{tk}, func(context.Context, sqlstore.TicketTx, []string) error { return nil }); err != nil {
				t.Fatal(err)
			}
			switch sp.status {
			case scorebridge.TicketFailed:
				if err := ts.MarkTicketFailed(ctx, sp.id, "refused"); err != nil {
					t.Fatal(err)
				}
			case scorebridge.TicketSent:
				sys := "sys-" + sp.id
				if err := ts.MarkTicketSent(ctx, sp.id, sqlstore.TicketResult{Number: fmt.Sprintf("NUM%04d", i), SysID: sys, State: "0"}, nil); err != nil {
					t.Fatal(err)
				}
				if _, err := st.ApplyChanges(ctx, sp.conn, []scorebridge.RecordChange{{SysID: sys, ModCount: 1, State: sp.state, AssignedTo: sp.assignee, Source: "sync"}}, tracking.StateName, ""); err != nil {
					t.Fatal(err)
				}
			}
		}
		ids := func(list []*scorebridge.Ticket) string {
			var out []string
			for _, tk := range list {
				out = append(out, tk.ID)
			}
			sort.Strings(out)
			return strings.Join(out, ",")
		}
		for _, c := range []struct {
			name   string
			filter scorebridge.TicketFilter
			want   string
		}{
			{"type incident", scorebridge.TicketFilter{Type: scorebridge.TicketIncident}, "inc-done,inc-new,inc-queued,inc-wip"},
			{"type change_request", scorebridge.TicketFilter{Type: "change_request"}, "chg-failed,chg-impl,chg-new"},
			{"type problem", scorebridge.TicketFilter{Type: scorebridge.TicketProblem}, "prb-new"},
			{"state", scorebridge.TicketFilter{Type: scorebridge.TicketIncident, State: "2"}, "inc-wip"},
			{"status queued", scorebridge.TicketFilter{Status: scorebridge.TicketQueued}, "inc-queued"},
			{"status failed", scorebridge.TicketFilter{Status: scorebridge.TicketFailed}, "chg-failed"},
			{"type and status", scorebridge.TicketFilter{Type: scorebridge.TicketChange, Status: scorebridge.TicketSent}, "chg-impl,chg-new"},
			{"category", scorebridge.TicketFilter{Category: "devices"}, "chg-new,inc-done,inc-queued,prb-new"},
			{"default connection", scorebridge.TicketFilter{ConnectionID: "c1"}, "inc-done,inc-new,inc-queued,inc-wip,prb-new"},
			{"other connection", scorebridge.TicketFilter{ConnectionID: "c2"}, "chg-failed,chg-impl,chg-new"},
			{"assignee", scorebridge.TicketFilter{Assignee: "Beth Anglin"}, "inc-done,inc-wip"},
			// The SLA's rule: sent, open, due before today (no grace days).
			{"overdue", scorebridge.TicketFilter{Overdue: true}, "inc-wip"},
			{"text in name", scorebridge.TicketFilter{Query: "CHG-IMPL"}, "chg-impl"},
			{"text in number", scorebridge.TicketFilter{Query: "num0005"}, "prb-new"},
			{"text with a wildcard", scorebridge.TicketFilter{Query: "%"}, ""},
			{"action", scorebridge.TicketFilter{RecommendationID: "r-id", Type: scorebridge.TicketChange}, "chg-failed,chg-impl"},
		} {
			got, next, err := ts.FindTicketPage(ctx, c.filter)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if ids(got) != c.want || next != "" {
				t.Errorf("%s: got %q (next %q), want %q", c.name, ids(got), next, c.want)
			}
		}

		// Paging, in each sort, returns everything once and in order.
		for _, sortBy := range scorebridge.TicketSorts {
			var all []*scorebridge.Ticket
			var pages [][]string
			cursor := ""
			for n := 0; ; n++ {
				if n > len(specs) {
					t.Fatalf("sort %s: paging does not end", sortBy)
				}
				page, next, err := ts.FindTicketPage(ctx, scorebridge.TicketFilter{Sort: sortBy, Limit: 3, Cursor: cursor})
				if err != nil {
					t.Fatal(err)
				}
				if len(page) > 3 {
					t.Fatalf("page of %d, want at most 3", len(page))
				}
				all = append(all, page...)
				pages = append(pages, ticketIDs(page))
				if next == "" {
					break
				}
				cursor = next
			}
			// Back from the last page, each page before comes again, down
			// to the first, which offers no cursor further back.
			for i := len(pages) - 2; i >= 0; i-- {
				page, prev, err := ts.FindTicketPage(ctx, scorebridge.TicketFilter{Sort: sortBy, Limit: 3, Cursor: cursor, Backward: true})
				if err != nil {
					t.Fatal(err)
				}
				if got := ticketIDs(page); !slices.Equal(got, pages[i]) {
					t.Fatalf("sort %s: page %d read back %v, want %v", sortBy, i, got, pages[i])
				}
				if (prev == "") != (i == 0) {
					t.Fatalf("sort %s: page %d read back offers %q further back", sortBy, i, prev)
				}
				cursor = prev
			}
			if len(all) != len(specs) {
				t.Fatalf("sort %s: paged through %d tickets, want %d", sortBy, len(all), len(specs))
			}
			for i := 1; i < len(all); i++ {
				a, z := all[i-1], all[i]
				ok := true
				switch sortBy {
				case scorebridge.TicketSortCreated:
					ok = a.CreatedAt.After(z.CreatedAt) || a.CreatedAt.Equal(z.CreatedAt) && a.ID < z.ID
				case scorebridge.TicketSortUpdated:
					ok = !a.UpdatedAt.Before(z.UpdatedAt)
				case scorebridge.TicketSortName:
					ok = a.Name < z.Name
				}
				if !ok {
					t.Errorf("sort %s: %s before %s", sortBy, a.ID, z.ID)
				}
			}
		}
		// A cursor of another sort, or not one handed out, is refused.
		_, next, _ := ts.FindTicketPage(ctx, scorebridge.TicketFilter{Limit: 1})
		if _, _, err := ts.FindTicketPage(ctx, scorebridge.TicketFilter{Limit: 1, Sort: scorebridge.TicketSortName, Cursor: next}); scorebridge.ErrorField(err) != "cursor" {
			t.Errorf("a cursor of another sort: %v", err)
		}
		if _, _, err := ts.FindTicketPage(ctx, scorebridge.TicketFilter{Cursor: "!!"}); scorebridge.ErrorField(err) != "cursor" {
			t.Errorf("a forged cursor: %v", err)
		}
		// The counts the database keeps for the cards are what a recount
		// says, after inserts, sends, failures, tracked changes and a delete.
		if _, err := db.SQL.ExecContext(ctx, `DELETE FROM tickets WHERE id = 'chg-impl'`); err != nil {
			t.Fatal(err)
		}
		kept := countRows(t, db, `SELECT status, type, state, connection_id, state_class, tickets FROM ticket_state_counts WHERE tickets <> 0`)
		recount := countRows(t, db, `SELECT status, type, state, connection_id, state_class, COUNT(*) FROM tickets GROUP BY status, type, state, connection_id, state_class`)
		if kept != recount {
			t.Errorf("kept ticket counts\n%s\ndiffer from a recount\n%s", kept, recount)
		}
		// The listed tickets carry what the list shows.
		got, _ := ts.FindTicketByID(ctx, "inc-wip")
		if got.AssignedTo != "Beth Anglin" || got.StateClass != scorebridge.ClassOpen || got.StateName != "In Progress" {
			t.Errorf("listed ticket %+v", got)
		}
	})
}

// TestTicketFilter_Validate names the bad parameter.
func TestTicketFilter_Validate(t *testing.T) {
	for field, f := range map[string]scorebridge.TicketFilter{
		"type":     {Type: "task"},
		"state":    {State: "open"},
		"status":   {Status: "lost"},
		"category": {Category: "Printers"},
		"q":        {Query: strings.Repeat("q", 201)},
		"assignee": {Assignee: "a\x00"},
		"sort":     {Sort: "priority"},
		"limit":    {Limit: -1},
		"cursor":   {Cursor: strings.Repeat("c", 2000)},
	} {
		if err := f.Validate(); scorebridge.ErrorCode(err) != scorebridge.EINVALID || scorebridge.ErrorField(err) != field {
			t.Errorf("%+v: %v, want EINVALID naming %s", f, err, field)
		}
	}
	if err := (scorebridge.TicketFilter{Type: "change_request", State: "-5", Category: "identity", Overdue: true}).Validate(); err != nil {
		t.Errorf("a good filter: %v", err)
	}
}

// countRows reads a query of five text columns and a count as sorted lines.
func countRows(t *testing.T, db *sqlstore.DB, query string) string {
	t.Helper()
	rows, err := db.SQL.QueryContext(context.Background(), query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a, b, c, d, e string
		var n int
		if err := rows.Scan(&a, &b, &c, &d, &e, &n); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %s %s %s %s %d", a, b, c, d, e, n))
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}
