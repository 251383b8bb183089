package rules_test

import (
	"strings"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// "New since the last import" selects the actions the latest import
// added, not those an earlier import brought.
func TestRule_NewSinceLastImport(t *testing.T) {
	backends(t, func(t *testing.T, dsn string) {
		b := setup(t, dsn)
		b.importGraph(t, 40, 0)
		// Controls 40 to 44 appear on day 1.
		b.importGraph(t, 45, 1)
		r := &scorebridge.Rule{Name: "New ones", Enabled: true, MaxTicketsPerRun: 50,
			Conditions: scorebridge.RuleConditions{NewSinceLastImport: true},
			Action:     scorebridge.RuleAction{TicketType: scorebridge.TicketIncident, Priority: 3}}
		if err := b.engine.CreateRule(b.ctx, r); err != nil {
			t.Fatal(err)
		}
		p, err := b.engine.PreviewRule(b.ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Tickets) == 0 {
			t.Fatal("no action new since the last import selected")
		}
		for _, pt := range p.Tickets {
			if id := pt.RecommendationIDs[0]; id[len(id)-5:] < "00040" {
				t.Errorf("action %s, present before the latest import, selected", id)
			}
		}
		if p.Matched != len(p.Tickets) || p.Matched > 5 {
			t.Errorf("matched %d actions, previewed %d tickets; at most the 5 new", p.Matched, len(p.Tickets))
		}
	})
}

// "Drift" selects an action whose ticket closed without the control
// achieved; a run makes one ticket for it, and a second run, even after
// that ticket closes too, none.
func TestRule_DriftOnce(t *testing.T) {
	backends(t, func(t *testing.T, dsn string) {
		b := setup(t, dsn)
		b.importGraph(t, 40, 0)
		first := &scorebridge.Rule{Name: "Top one", Enabled: true, MaxTicketsPerRun: 1,
			Action: scorebridge.RuleAction{TicketType: scorebridge.TicketIncident, Priority: 3}}
		if err := b.engine.CreateRule(b.ctx, first); err != nil {
			t.Fatal(err)
		}
		run, err := b.engine.RunRule(b.ctx, first.ID)
		if err != nil || len(run.TicketIDs) != 1 {
			t.Fatalf("first ticket: %+v %v", run, err)
		}
		tk := b.waitSent(t, run.TicketIDs)[0]
		first.Enabled = false
		if err := b.engine.UpdateRule(b.ctx, first); err != nil {
			t.Fatal(err)
		}

		drift := &scorebridge.Rule{Name: "Drifted", Enabled: true, MaxTicketsPerRun: 50,
			Conditions: scorebridge.RuleConditions{Drift: true},
			Action:     scorebridge.RuleAction{TicketType: scorebridge.TicketProblem, Priority: 2}}
		if err := b.engine.CreateRule(b.ctx, drift); err != nil {
			t.Fatal(err)
		}
		if p, err := b.engine.PreviewRule(b.ctx, drift.ID); err != nil || p.Matched != 0 {
			t.Fatalf("before any drift: %+v %v", p, err)
		}
		// The ticket closes in ServiceNow, the control still not achieved.
		closeTicket(t, b, tk.ID)
		ds := sqlstore.NewDriftStore(b.db)
		if began, err := ds.StartDrift(b.ctx, tk.ID, scorebridge.DriftFinished); err != nil || !began {
			t.Fatalf("start drift: %v %v", began, err)
		}
		p, err := b.engine.PreviewRule(b.ctx, drift.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Tickets) != 1 || strings.Join(p.Tickets[0].RecommendationIDs, ",") != strings.Join(tk.RecommendationIDs, ",") {
			t.Fatalf("preview of the drift rule: %+v, want the drifted ticket's action %v", p.Tickets, tk.RecommendationIDs)
		}
		again, err := b.engine.RunRule(b.ctx, drift.ID)
		if err != nil || len(again.TicketIDs) != 1 {
			t.Fatalf("drift run: %+v %v", again, err)
		}
		follow := b.waitSent(t, again.TicketIDs)[0]
		if follow.Type != scorebridge.TicketProblem {
			t.Errorf("drift ticket %+v", follow)
		}
		// Even with the follow-up closed and the drifted ticket touched
		// again, the same drift makes no second ticket.
		closeTicket(t, b, follow.ID)
		closeTicket(t, b, tk.ID)
		second, err := b.engine.RunRule(b.ctx, drift.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(second.TicketIDs) != 0 {
			t.Fatalf("the second drift run made %d tickets, want none", len(second.TicketIDs))
		}
	})
}

// closeTicket records the ticket as closed in ServiceNow, as tracking
// does, touching its updated time.
func closeTicket(t *testing.T, b *bundle, id string) {
	t.Helper()
	q := `UPDATE tickets SET state_class = 'closed', updated_at = ? WHERE id = ?`
	var now any = time.Now().UTC()
	if b.db.Dialect == sqlstore.DialectPostgres {
		q = `UPDATE tickets SET state_class = 'closed', updated_at = $1 WHERE id = $2`
	} else {
		now = time.Now().UTC().Format("2006-01-02T15:04:05.000000Z")
	}
	if _, err := b.db.SQL.ExecContext(b.ctx, q, now, id); err != nil {
		t.Fatal(err)
	}
}
