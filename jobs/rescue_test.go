package jobs_test

import (
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
)

// A job left "running" by a process that was killed is worked again by
// River's rescuer once it could no longer be running anywhere (its
// RescueAfter has passed), when the center starts again on its SQLite file;
// and the ticket is still made once.
func TestTicket_InterruptedJobResumesAtStart(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noStart: true})
	tk := createOne(t, b, &scorebridge.TicketRequest{RecommendationIDs: []string{"mfa-admins"}, Type: scorebridge.TicketIncident, Name: "MFA", Priority: 2})

	// What a SIGKILL mid-job leaves behind: the job running, its attempt
	// begun before the rescue horizon.
	attempted := time.Now().UTC().Add(-b.runner.RescueAfter() - time.Second).Format("2006-01-02 15:04:05.000")
	res, err := b.db.SQL.Exec(`UPDATE river_job SET state = 'running', attempt = 1, attempted_at = ? WHERE kind = 'create_ticket'`, attempted)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("%d ticket jobs, want 1", n)
	}
	if err := b.runner.Start(b.ctx); err != nil {
		t.Fatal(err)
	}
	got := b.waitTicket(t, tk.ID, nil)
	if got.Status != scorebridge.TicketSent || len(b.records(t, "incident", tk.ID)) != 1 {
		t.Fatalf("ticket %+v", got)
	}
}
