package tracking_test

import (
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/snowsim"
)

// afterLostAnswer runs do with the instance dropping every answer (the
// write is committed, the connection closed), waits until an attempt of an
// update_ticket job failed on it, lets the instance answer again and waits
// for the job to complete.
func (d *driftBundle) afterLostAnswer(t *testing.T, do func()) {
	t.Helper()
	events, stop := d.runner.Subscribe(river.EventKindJobCompleted, river.EventKindJobCancelled, river.EventKindJobFailed)
	defer stop()
	if err := d.sim.SetFaults(snowsim.Faults{DropRate: 1}); err != nil {
		t.Fatal(err)
	}
	do()
	timeout := time.After(30 * time.Second)
	lost := false
	for {
		select {
		case e := <-events:
			if e.Job.Kind != "update_ticket" {
				continue
			}
			retryable := e.Kind == river.EventKindJobFailed && e.Job.State != rivertype.JobStateDiscarded
			switch {
			case retryable && !lost:
				lost = true
				if err := d.sim.SetFaults(snowsim.Faults{}); err != nil {
					t.Fatal(err)
				}
			case e.Kind == river.EventKindJobCompleted && lost:
				return
			case !retryable:
				t.Fatalf("update_ticket job %s (state %s), lost answer seen %v: %v", e.Kind, e.Job.State, lost, e.Job.Errors)
			}
		case <-timeout:
			t.Fatal("the update_ticket job did not complete within 30s")
		}
	}
}

// TestDriftReopenAndResolveLostAnswerNoteOnce: a reopen or a resolve whose
// PATCH reached ServiceNow but whose answer was lost is retried; the retry
// finds its work note on the record and sends nothing again, so the note
// appears once.
func TestDriftReopenAndResolveLostAnswerNoteOnce(t *testing.T) {
	forEachDB(t, func(t *testing.T, db backend) {
		d := setupDrift(t, db, map[string]string{scorebridge.SettingResolveOnCompleted: "true"})
		d.sim.SetDataPolicy(true)
		a := d.share(t, "a", scorebridge.TicketIncident, false)
		done := d.share(t, "done", scorebridge.TicketIncident, false)
		d.sync(t)
		d.patch(t, "incident", a.SysID, resolved)
		d.sync(t)

		d.afterLostAnswer(t, func() {
			if _, err := d.drift.ReopenDrift(d.ctx, "a"); err != nil {
				t.Fatal(err)
			}
		})
		if rec, _ := d.sim.Get("incident", a.SysID); rec["state"] != "2" {
			t.Fatalf("reopened incident in state %q, want 2", rec["state"])
		}
		if notes := d.workNotes(t, a.SysID); strings.Count(notes, "Reopened by scorebridge") != 1 {
			t.Fatalf("reopen work notes, want one:\n%s", notes)
		}
		wantRequests(t, d, a.ID, "PATCH,GET")

		completed := scorebridge.StateCompleted
		d.afterLostAnswer(t, func() {
			if _, err := d.recs.UpdateRecommendation(d.ctx, "done", scorebridge.RecommendationUpdate{State: &completed}); err != nil {
				t.Fatal(err)
			}
		})
		if rec, _ := d.sim.Get("incident", done.SysID); rec["state"] != "6" {
			t.Fatalf("resolved incident in state %q, want 6", rec["state"])
		}
		if notes := d.workNotes(t, done.SysID); strings.Count(notes, "Resolved by scorebridge") != 1 {
			t.Fatalf("resolve work notes, want one:\n%s", notes)
		}
		wantRequests(t, d, done.ID, "PATCH,GET")
	})
}

// wantRequests checks the methods of the requests the ticket's audit
// recorded after its creation, each once: the PATCH that was lost, then
// the look-up that found it applied, and no second PATCH.
func wantRequests(t *testing.T, d *driftBundle, ticketID, want string) {
	t.Helper()
	audit, err := d.tickets.FindTicketAudit(d.ctx, ticketID)
	if err != nil {
		t.Fatal(err)
	}
	var methods []string
	for _, e := range audit {
		if e.Kind == "request" && e.Method != "POST" {
			methods = append(methods, e.Method)
		}
	}
	if got := strings.Join(methods, ","); got != want {
		t.Fatalf("requests after the create %s, want %s", got, want)
	}
}
