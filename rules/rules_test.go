package rules_test

import (
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// A rule over a fresh import makes exactly the tickets its preview
// listed, through the durable ticket path to the simulator, each naming
// the rule; running it again makes none.
func TestRule_RunMakesWhatPreviewListedThenNothing(t *testing.T) {
	backends(t, func(t *testing.T, dsn string) {
		b := setup(t, dsn)
		b.importGraph(t, 40, 0)
		groups, err := b.sim.Query("sys_user_group", "name=Security Operations")
		if err != nil || len(groups) != 1 {
			t.Fatalf("group: %v %v", groups, err)
		}
		group := groups[0]["sys_id"]
		r := &scorebridge.Rule{Name: "Identity worth 3 points", Enabled: true,
			Conditions: scorebridge.RuleConditions{Categories: []scorebridge.Category{scorebridge.CategoryIdentity}, MinScoreImpact: 3},
			Action: scorebridge.RuleAction{TicketType: scorebridge.TicketChange, Priority: 4, AssignmentGroup: group,
				PriorityByImpact: []scorebridge.PriorityThreshold{{MinScoreImpact: 8, Priority: 1}, {MinScoreImpact: 5, Priority: 2}}},
			MaxTicketsPerRun: 50}
		if err := b.engine.CreateRule(b.ctx, r); err != nil {
			t.Fatal(err)
		}
		p, err := b.engine.PreviewRule(b.ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Tickets) < 2 || p.CapHit || p.Matched != len(p.Tickets) {
			t.Fatalf("preview: %d tickets of %d matched (cap hit %v)", len(p.Tickets), p.Matched, p.CapHit)
		}
		for _, pt := range p.Tickets {
			want := 4
			if pt.ScoreImpact >= 8 {
				want = 1
			} else if pt.ScoreImpact >= 5 {
				want = 2
			}
			if pt.Priority != want || pt.ScoreImpact < 3 || pt.Actions[0].Category != scorebridge.CategoryIdentity || pt.DueDate == "" {
				t.Errorf("previewed ticket %+v: want priority %d, impact at least 3, Identity, a due date", pt, want)
			}
		}
		if n := b.count(t, `SELECT COUNT(*) FROM tickets`); n != 0 {
			t.Fatalf("a preview made %d tickets", n)
		}
		run, err := b.engine.RunRule(b.ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(run.TicketIDs) != len(p.Tickets) || run.CapHit {
			t.Fatalf("run made %d tickets, preview listed %d", len(run.TicketIDs), len(p.Tickets))
		}
		sent := b.waitSent(t, run.TicketIDs)
		for i, tk := range sent {
			pt := p.Tickets[i]
			if tk.Status != scorebridge.TicketSent || tk.Name != pt.Name || tk.Priority != pt.Priority || tk.DueDate != pt.DueDate ||
				strings.Join(tk.RecommendationIDs, ",") != strings.Join(pt.RecommendationIDs, ",") || tk.RequestedBy != `rule "Identity worth 3 points"` {
				t.Errorf("ticket %d: %+v\npreviewed %+v", i, tk, pt)
			}
			recs, err := b.sim.Query("change_request", "correlation_id="+tk.ID)
			if err != nil || len(recs) != 1 {
				t.Fatalf("records of %s: %v %v", tk.ID, recs, err)
			}
			rec := recs[0]
			if rec["assignment_group"] != group || rec["due_date"] != pt.DueDate+" 23:59:59" ||
				!strings.Contains(rec["description"], `Created by the scorebridge automation rule "Identity worth 3 points".`) ||
				!strings.Contains(rec["description"], `by the automation rule "Identity worth 3 points"`) {
				t.Errorf("record %s: group %q due %q\n%s", rec["number"], rec["assignment_group"], rec["due_date"], rec["description"])
			}
		}
		again, err := b.engine.RunRule(b.ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(again.TicketIDs) != 0 || again.Matched != 0 {
			t.Fatalf("the second run made %d tickets (matched %d), want none", len(again.TicketIDs), again.Matched)
		}
		if n := b.count(t, `SELECT COUNT(*) FROM audit_events WHERE action = ?`, scorebridge.AuditRuleRun); n != 2 {
			t.Errorf("%d rule.run audit events, want 2", n)
		}
		if n := b.count(t, `SELECT COUNT(*) FROM audit_events WHERE action = ? AND target = ?`, scorebridge.AuditRule, r.ID); n != 1 {
			t.Errorf("%d rule audit events for the creation, want 1", n)
		}
	})
}

// The cap stops a run and says so; a disabled rule does nothing; a
// regressed control triggers its rule once, even after its ticket closes.
func TestRule_CapDisabledAndRegressedOnce(t *testing.T) {
	backends(t, func(t *testing.T, dsn string) {
		b := setup(t, dsn)
		// Control 72 is achieved on day 0 ((7*72) % 101 = 100 %) and
		// drops to 0 % on day 1.
		b.importGraph(t, 80, 0)
		all := &scorebridge.Rule{Name: "Everything", Enabled: true, MaxTicketsPerRun: 3,
			Action: scorebridge.RuleAction{TicketType: scorebridge.TicketIncident, Priority: 3}}
		off := &scorebridge.Rule{Name: "Off", Enabled: false,
			Action: scorebridge.RuleAction{TicketType: scorebridge.TicketIncident, Priority: 3, Grouping: scorebridge.RuleGrouped}}
		for _, r := range []*scorebridge.Rule{all, off} {
			if err := b.engine.CreateRule(b.ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.engine.RunEnabled(b.ctx, scorebridge.TriggerSchedule); err != nil {
			t.Fatal(err)
		}
		got, err := b.engine.FindRuleByID(b.ctx, all.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.LastRun == nil || len(got.LastRun.TicketIDs) != 3 || !got.LastRun.CapHit || got.LastRun.Trigger != scorebridge.TriggerSchedule {
			t.Fatalf("capped run: %+v", got.LastRun)
		}
		if n := b.count(t, `SELECT COUNT(*) FROM audit_events WHERE action = ? AND target = ? AND detail LIKE ?`, scorebridge.AuditRuleRun, all.ID, `%"capHit":true%`); n != 1 {
			t.Errorf("%d rule.run events saying the cap was hit, want 1", n)
		}
		if got, _ := b.engine.FindRuleByID(b.ctx, off.ID); got.LastRun != nil {
			t.Fatalf("a disabled rule ran: %+v", got.LastRun)
		}
		if n := b.count(t, `SELECT COUNT(*) FROM tickets`); n != 3 {
			t.Fatalf("%d tickets, want the capped rule's 3", n)
		}

		// Only the regression rule from here on.
		all.Enabled = false
		if err := b.engine.UpdateRule(b.ctx, all); err != nil {
			t.Fatal(err)
		}
		reg := &scorebridge.Rule{Name: "Regressions", Enabled: true, Conditions: scorebridge.RuleConditions{Regressed: true},
			Action: scorebridge.RuleAction{TicketType: scorebridge.TicketProblem, Priority: 2}}
		if err := b.engine.CreateRule(b.ctx, reg); err != nil {
			t.Fatal(err)
		}
		if err := b.engine.RunEnabled(b.ctx, scorebridge.TriggerSchedule); err != nil {
			t.Fatal(err)
		}
		if got, _ := b.engine.FindRuleByID(b.ctx, reg.ID); got.LastRun == nil || len(got.LastRun.TicketIDs) != 0 {
			t.Fatalf("the regression rule acted before any regression: %+v", got.LastRun)
		}
		if imp := b.importGraph(t, 80, 1); imp.Regressed != 1 {
			t.Fatalf("the second import found %d regressions, want 1", imp.Regressed)
		}
		if err := b.engine.RunEnabled(b.ctx, scorebridge.TriggerImport); err != nil {
			t.Fatal(err)
		}
		got, _ = b.engine.FindRuleByID(b.ctx, reg.ID)
		if got.LastRun == nil || len(got.LastRun.TicketIDs) != 1 || got.LastRun.Trigger != scorebridge.TriggerImport {
			t.Fatalf("the regression run: %+v", got.LastRun)
		}
		tk := b.waitSent(t, got.LastRun.TicketIDs)[0]
		if tk.Type != scorebridge.TicketProblem || len(tk.RecommendationIDs) != 1 || !strings.HasSuffix(tk.RecommendationIDs[0], "Control00072") || !strings.HasPrefix(tk.Number, "PRB") {
			t.Fatalf("regression ticket %+v", tk)
		}
		// The problem is closed while the control is still regressed: the
		// rule does not act on the same regression again.
		if _, err := b.db.SQL.ExecContext(b.ctx, rebind(b.db, `UPDATE tickets SET state_class = 'closed' WHERE id = ?`), tk.ID); err != nil {
			t.Fatal(err)
		}
		if err := b.engine.RunEnabled(b.ctx, scorebridge.TriggerSchedule); err != nil {
			t.Fatal(err)
		}
		if got, _ := b.engine.FindRuleByID(b.ctx, reg.ID); len(got.LastRun.TicketIDs) != 0 {
			t.Fatalf("the same regression made another ticket: %+v", got.LastRun)
		}
	})
}

func rebind(db *sqlstore.DB, q string) string {
	if db.Dialect != sqlstore.DialectPostgres {
		return q
	}
	return strings.Replace(q, "?", "$1", 1)
}
