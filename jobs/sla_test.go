package jobs_test

import (
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/internal/clocktest"
	"github.com/scorebridge/scorebridge/internal/dbtest"
	"github.com/scorebridge/scorebridge/jobs"
	"github.com/scorebridge/scorebridge/sqlstore"
)

func TestSLA_DueDatesByPriorityAndOverdueNoteOnce(t *testing.T) {
	t.Parallel()
	testSLA(t, "")
}

func TestSLA_Postgres(t *testing.T) {
	dsn := dbtest.PostgresURL()
	if dsn == "" {
		t.Skip("SCOREBRIDGE_TEST_POSTGRES is not set")
	}
	t.Parallel()
	testSLA(t, dbtest.PostgresSchema(t, dsn, "jobs_sla"))
}

func testSLA(t *testing.T, dsn string) {
	clock := clocktest.New(time.Now().UTC())
	var sla *sqlstore.SLAStore
	b := setup(t, setupOpts{dsn: dsn, config: func(c *jobs.Config) {
		sla = sqlstore.NewSLAStore(c.DB)
		c.SLA, c.Now = sla, clock.Now
	}})
	p2 := 21
	if _, err := sla.UpdateSLA(b.ctx, scorebridge.SLAUpdate{DueDays: map[int]int{2: p2}}); err != nil {
		t.Fatal(err)
	}
	start := clock.Now()
	want := map[int]int{1: 7, 2: p2, 3: 30, 4: 90, 5: 180}
	var reqs []*scorebridge.TicketRequest
	for p := 1; p <= 5; p++ {
		reqs = append(reqs, &scorebridge.TicketRequest{RecommendationIDs: []string{"bitlocker"}, Type: scorebridge.TicketIncident, Name: "BitLocker", Priority: p})
	}
	// A date the person chose wins over the SLA.
	own := start.AddDate(0, 0, 3).Format(scorebridge.DueDateLayout)
	reqs = append(reqs, &scorebridge.TicketRequest{RecommendationIDs: []string{"mfa-admins"}, Type: scorebridge.TicketChange, Name: "MFA", Priority: 1, DueDate: own})
	ts, err := b.tickets.CreateTickets(b.ctx, reqs)
	if err != nil {
		t.Fatal(err)
	}
	for i, tk := range ts[:5] {
		p := i + 1
		due := start.AddDate(0, 0, want[p]).Format(scorebridge.DueDateLayout)
		if tk.DueDate != due {
			t.Errorf("P%d ticket due %q, want %q (%d days)", p, tk.DueDate, due, want[p])
		}
		b.waitTicket(t, tk.ID, nil)
		if got := b.records(t, "incident", tk.ID)[0]["due_date"]; got != due+" 23:59:59" {
			t.Errorf("P%d record due_date %q, want %s 23:59:59", p, got, due)
		}
	}
	if ts[5].DueDate != own {
		t.Errorf("a chosen due date became %q, want %q", ts[5].DueDate, own)
	}
	b.waitTicket(t, ts[5].ID, nil)

	// Nothing is overdue yet.
	if found, err := b.runner.CheckOverdue(b.ctx); err != nil || len(found) != 0 {
		t.Fatalf("overdue at the start: %v %v", found, err)
	}
	on := true
	if _, err := sla.UpdateSLA(b.ctx, scorebridge.SLAUpdate{OverdueWorkNote: &on}); err != nil {
		t.Fatal(err)
	}
	// Eight days on: the P1 ticket (7 days) and the change due in 3 are
	// past due; the rest are not.
	clock.Advance(8 * 24 * time.Hour)
	events, stop := b.runner.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled)
	defer stop()
	found, err := b.runner.CheckOverdue(b.ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, o := range found {
		got[o.TicketID] = true
	}
	if len(found) != 2 || !got[ts[0].ID] || !got[ts[5].ID] {
		t.Fatalf("overdue after 8 days: %+v, want the P1 incident and the change", found)
	}
	// Each gets its work note once.
	notes := 0
	timeout := time.After(30 * time.Second)
	for notes < 2 {
		select {
		case e := <-events:
			if e.Job.Kind == (jobs.OverdueNoteArgs{}).Kind() {
				if e.Kind != river.EventKindJobCompleted {
					t.Fatalf("overdue note job %s: %v", e.Kind, e.Job.Errors)
				}
				notes++
			}
		case <-timeout:
			t.Fatalf("%d of 2 overdue notes done after 30s", notes)
		}
	}
	if again, err := b.runner.CheckOverdue(b.ctx); err != nil || len(again) != 0 {
		t.Fatalf("a second check found %v (%v), want nothing new", again, err)
	}
	for _, tk := range []*scorebridge.Ticket{ts[0], ts[5]} {
		sent, _ := b.tickets.FindTicketByID(b.ctx, tk.ID)
		js, err := b.sim.Query("sys_journal_field", "element_id="+sent.SysID+"^element=work_notes")
		if err != nil {
			t.Fatal(err)
		}
		if len(js) != 1 || !strings.Contains(js[0]["value"], "passed its due date ("+sent.DueDate+")") {
			t.Errorf("work notes of %s: %v, want one overdue note", sent.Number, js)
		}
	}
	// Counted, as the home page's card does, and audited.
	n, err := sqlstore.NewTicketStore(b.db).CountOverdue(b.ctx, (&scorebridge.SLA{}).OverdueBefore(clock.Now()))
	if err != nil || n != 2 {
		t.Errorf("overdue count %d (%v), want 2", n, err)
	}
	evs, _, err := sqlstore.NewAuditStore(b.db).FindAuditEvents(b.ctx, scorebridge.AuditFilter{Action: scorebridge.AuditTicketOverdue})
	if err != nil || len(evs) != 3 {
		t.Errorf("%d ticket.overdue audit events (%v), want 3 (the check and two notes)", len(evs), err)
	}
}
