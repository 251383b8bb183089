package sqlstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// benchTickets is a large center's ticket count.
const benchTickets = 100_000

// seedTickets writes n tickets straight into the tables, in batches: a
// center's worth of history without a transaction each. Types, statuses
// and states are spread as a busy center's are: one ticket in 50 failed,
// one in 100 queued, the rest sent in the states of their type.
func seedTickets(b *testing.B, be backend, db *sqlstore.DB, n int) {
	b.Helper()
	ctx := context.Background()
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(i int) any {
		t := start.Add(time.Duration(i) * time.Minute)
		if be.name == sqlstore.DialectPostgres {
			return t
		}
		return t.Format("2006-01-02T15:04:05.000000Z")
	}
	states := map[string][]string{"incident": {"1", "2", "3", "6", "7"}, "change": {"-5", "-4", "-1", "0", "3"}, "problem": {"101", "102", "106"}}
	const batch = 500
	for from := 0; from < n; from += batch {
		tx, err := db.SQL.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		var rows, links []string
		var args, largs []any
		for i := from; i < min(from+batch, n); i++ {
			typ := []string{"incident", "change", "problem"}[i%3]
			status, state, class := "sent", states[typ][i%len(states[typ])], "open"
			switch {
			case i%50 == 7:
				status, state, class = "failed", "", ""
			case i%100 == 3:
				status, state, class = "queued", "", ""
			}
			id := fmt.Sprintf("bench-%06d", i)
			rows = append(rows, "(?, ?, '', ?, 3, ?, 'bench', ?, ?, ?, ?, ?, ?, ?)")
			args = append(args, id, typ, fmt.Sprintf("Fix control %d", i), `[{"id":"action-1","title":"MFA"}]`, status,
				fmt.Sprintf("NUM%07d", i), state, class, []string{"", "Beth Anglin", "David Loo"}[i%3], at(i), at(i))
			links = append(links, "(?, 'action-1', 0)")
			largs = append(largs, id)
		}
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`INSERT INTO tickets (id, type, connection_id, name, priority, actions, requested_by, status, number, state, state_class, assigned_to, created_at, updated_at) VALUES ` + strings.Join(rows, ","), args},
			{`INSERT INTO ticket_recommendations (ticket_id, recommendation_id, position) VALUES ` + strings.Join(links, ","), largs},
		} {
			query := q.sql
			if be.name == sqlstore.DialectPostgres {
				for i := 1; strings.Contains(query, "?"); i++ {
					query = strings.Replace(query, "?", fmt.Sprintf("$%d", i), 1)
				}
			}
			if _, err := tx.ExecContext(ctx, query, q.args...); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	if be.name == sqlstore.DialectPostgres {
		if _, err := db.SQL.ExecContext(ctx, `ANALYZE tickets`); err != nil {
			b.Fatal(err)
		}
	} else if _, err := db.SQL.ExecContext(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkTicketList100k reads the all tickets list's pages and the home
// page's cards at 100,000 tickets on each database, each figure in ms/op
// beside a primary-key lookup of one ticket measured in the same run (the
// least a read of a ticket costs): a page that scanned or sorted the table
// would cost hundreds of lookups.
//
//	go test -run '^$' -bench TicketList100k -benchtime 200x ./sqlstore/
func BenchmarkTicketList100k(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			db, _ := openTest(b, be)
			seedTickets(b, be, db, benchTickets)
			tickets := sqlstore.NewTicketStore(db)
			cards := trackingStore(b, db)
			ctx := context.Background()

			// The reference: one ticket by its primary key, as its page reads it.
			const refRuns = 300
			t0 := time.Now()
			for i := range refRuns {
				if _, err := tickets.FindTicketByID(ctx, fmt.Sprintf("bench-%06d", i*311%benchTickets)); err != nil {
					b.Fatal(err)
				}
			}
			refMS := float64(time.Since(t0).Microseconds()) / 1000 / refRuns

			deep := scorebridge.TicketFilter{Limit: 25}
			for range 40 {
				_, next, err := tickets.FindTicketPage(ctx, deep)
				if err != nil {
					b.Fatal(err)
				}
				deep.Cursor = next
			}
			for _, tc := range []struct {
				name string
				read func() (int, error)
			}{
				{"first-page", func() (int, error) {
					ts, _, err := tickets.FindTicketPage(ctx, scorebridge.TicketFilter{Limit: 25})
					return len(ts), err
				}},
				{"status-failed-type-change", func() (int, error) {
					ts, _, err := tickets.FindTicketPage(ctx, scorebridge.TicketFilter{Status: scorebridge.TicketFailed, Type: scorebridge.TicketChange, Limit: 25})
					return len(ts), err
				}},
				{"type-incident-state-2", func() (int, error) {
					ts, _, err := tickets.FindTicketPage(ctx, scorebridge.TicketFilter{Type: scorebridge.TicketIncident, State: "2", Limit: 25})
					return len(ts), err
				}},
				{"page-41", func() (int, error) {
					ts, _, err := tickets.FindTicketPage(ctx, deep)
					return len(ts), err
				}},
				{"home-cards", func() (int, error) {
					sum, err := cards.Summary(ctx)
					return sum[scorebridge.TicketIncident].Total, err
				}},
			} {
				b.Run(tc.name, func(b *testing.B) {
					start := time.Now()
					for b.Loop() {
						if n, err := tc.read(); err != nil || n == 0 {
							b.Fatalf("%d read, %v", n, err)
						}
					}
					ms := float64(time.Since(start).Microseconds()) / 1000 / float64(b.N)
					b.ReportMetric(ms, "ms/op")
					b.ReportMetric(refMS, "pk-lookup-ms/op")
				})
			}
		})
	}
}
