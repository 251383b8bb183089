package rules_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/internal/dbtest"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// BenchmarkRule50000 imports 50,000 Graph controls, then previews and runs
// (queues, the job runner stopped) a rule that matches all of them, one
// ticket per action and grouped, at the largest cap; it prints each step's
// time and the statements the stores sent beside the reference of listing
// the 50,000 actions page by page in the same database. On PostgreSQL too
// with SCOREBRIDGE_TEST_POSTGRES.
//
//	go test -run '^$' -bench Rule50000 -benchtime 1x ./rules/
func BenchmarkRule50000(b *testing.B) {
	dsns := map[string]string{"sqlite": filepath.Join(b.TempDir(), "bench.db")}
	if url := dbtest.PostgresURL(); url != "" {
		dsns["postgres"] = dbtest.PostgresSchema(b, url, "rules_bench")
	}
	for _, name := range []string{"sqlite", "postgres"} {
		dsn, ok := dsns[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				benchRule(b, name, dsn)
			}
		})
	}
}

func benchRule(b *testing.B, name, dsn string) {
	t := setupRunner(b, dsn, false)
	const n = 50000
	start := time.Now()
	t.importGraph(b, n, 0)
	fmt.Printf("%s: import of %d controls: %v\n", name, n, time.Since(start).Round(time.Millisecond))

	measure := func(what string, f func() string) {
		s0, t0 := t.db.Statements(), time.Now()
		out := f()
		fmt.Printf("%s: %-44s %9v %6d statements  %s\n", name, what, time.Since(t0).Round(time.Millisecond), t.db.Statements()-s0, out)
	}
	recs := sqlstore.NewRecommendationService(t.db)
	measure("reference: list 50,000 actions (pages of 200)", func() string {
		total, cursor := 0, ""
		for {
			page, next, err := recs.FindRecommendations(t.ctx, scorebridge.RecommendationFilter{Limit: 200, Cursor: cursor})
			if err != nil {
				b.Fatal(err)
			}
			total += len(page)
			if next == "" {
				break
			}
			cursor = next
		}
		return fmt.Sprintf("%d actions", total)
	})
	for _, grouping := range []scorebridge.RuleGrouping{scorebridge.RuleEach, scorebridge.RuleGrouped} {
		r := &scorebridge.Rule{Name: "All " + string(grouping), Enabled: true, MaxTicketsPerRun: scorebridge.MaxRuleTicketsPerRun,
			Action: scorebridge.RuleAction{TicketType: scorebridge.TicketIncident, Grouping: grouping, Priority: 3,
				PriorityByImpact: []scorebridge.PriorityThreshold{{MinScoreImpact: 8, Priority: 1}, {MinScoreImpact: 5, Priority: 2}}}}
		if err := t.engine.CreateRule(t.ctx, r); err != nil {
			b.Fatal(err)
		}
		var previewed int
		measure("preview, "+string(grouping)+" (cap 500 tickets)", func() string {
			p, err := t.engine.PreviewRule(t.ctx, r.ID)
			if err != nil {
				b.Fatal(err)
			}
			previewed = len(p.Tickets)
			return fmt.Sprintf("%d tickets for %d actions, cap hit %v", len(p.Tickets), p.Matched, p.CapHit)
		})
		measure("run (queue), "+string(grouping), func() string {
			run, err := t.engine.RunRule(t.ctx, r.ID)
			if err != nil {
				b.Fatal(err)
			}
			if len(run.TicketIDs) != previewed {
				b.Fatalf("run queued %d tickets, preview listed %d", len(run.TicketIDs), previewed)
			}
			return fmt.Sprintf("%d tickets queued with their jobs", len(run.TicketIDs))
		})
		// The actions queued are taken: the rule is off for the next.
		r.Enabled = false
		if err := t.engine.UpdateRule(t.ctx, r); err != nil {
			b.Fatal(err)
		}
	}
}
