package jobs_test

import (
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/internal/clocktest"
	"github.com/scorebridge/scorebridge/jobs"
	"github.com/scorebridge/scorebridge/snowsim"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// TestOverdueNote_LostAnswerNoteOnce: the overdue work note's PATCH
// reached ServiceNow but its answer was lost; the retry finds the note (by
// the reference it ends with) on the record and sends nothing again, so
// the ticket carries the note once and the center records it as noted.
func TestOverdueNote_LostAnswerNoteOnce(t *testing.T) {
	t.Parallel()
	clock := clocktest.New(time.Now().UTC())
	var sla *sqlstore.SLAStore
	b := setup(t, setupOpts{config: func(c *jobs.Config) {
		sla = sqlstore.NewSLAStore(c.DB)
		c.SLA, c.Now = sla, clock.Now
	}})
	on := true
	if _, err := sla.UpdateSLA(b.ctx, scorebridge.SLAUpdate{OverdueWorkNote: &on}); err != nil {
		t.Fatal(err)
	}
	ts, err := b.tickets.CreateTickets(b.ctx, []*scorebridge.TicketRequest{{RecommendationIDs: []string{"bitlocker"}, Type: scorebridge.TicketIncident, Name: "BitLocker", Priority: 1}})
	if err != nil {
		t.Fatal(err)
	}
	b.waitTicket(t, ts[0].ID, nil)

	events, stop := b.runner.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled)
	defer stop()
	if err := b.sim.SetFaults(snowsim.Faults{DropRate: 1}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(8 * 24 * time.Hour)
	if found, err := b.runner.CheckOverdue(b.ctx); err != nil || len(found) != 1 {
		t.Fatalf("overdue after 8 days: %v (%v), want the P1 incident", found, err)
	}
	lost := false
	timeout := time.After(30 * time.Second)
	for done := false; !done; {
		select {
		case e := <-events:
			if e.Job.Kind != (jobs.OverdueNoteArgs{}).Kind() {
				continue
			}
			retryable := e.Kind == river.EventKindJobFailed && e.Job.State != rivertype.JobStateDiscarded
			switch {
			case retryable && !lost:
				lost = true
				if err := b.sim.SetFaults(snowsim.Faults{}); err != nil {
					t.Fatal(err)
				}
			case e.Kind == river.EventKindJobCompleted && lost:
				done = true
			default:
				t.Fatalf("overdue note job %s (state %s), lost answer seen %v: %v", e.Kind, e.Job.State, lost, e.Job.Errors)
			}
		case <-timeout:
			t.Fatalf("the overdue note job did not complete within 30s (lost answer seen %v)", lost)
		}
	}
	sent, err := b.tickets.FindTicketByID(b.ctx, ts[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	js, err := b.sim.Query("sys_journal_field", "element_id="+sent.SysID+"^element=work_notes")
	if err != nil {
		t.Fatal(err)
	}
	if len(js) != 1 || !strings.Contains(js[0]["value"], "passed its due date") {
		t.Fatalf("work notes of %s: %v, want one overdue note", sent.Number, js)
	}
	noted, err := sqlstore.NewTicketStore(b.db).OverdueNoted(b.ctx, sent.ID)
	if err != nil || !noted {
		t.Fatalf("overdue noted = %v (%v), want true", noted, err)
	}
}
