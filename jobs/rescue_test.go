package jobs_test

import (
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
)

// A job left "running" by a process that was killed is worked again as soon
// as the center starts on its SQLite file, not an hour later when River's
// rescuer would get to it; and the ticket is still made once.
func TestTicket_InterruptedJobResumesAtStart(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noStart: true})
	tk := createOne(t, b, &scorebridge.TicketRequest{RecommendationIDs: []string{"mfa-admins"}, Type: scorebridge.TicketIncident, Name: "MFA", Priority: 2})

	// What a SIGKILL mid-job leaves behind: the job running, attempted a
	// moment ago, and the create possibly sent (its request audited).
	attempted := time.Now().UTC().Add(-2 * time.Second).Format("2006-01-02 15:04:05.000")
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
