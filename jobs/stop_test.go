package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/jobs"
)

// A stop asked for mid-bulk (the center's SIGTERM ends the context the
// runner was started with, then Stop is called with the shutdown grace)
// takes no new jobs and lets the running ones finish: no job loses an
// attempt or records an error, and after a restart every ticket is made
// exactly once.
func TestStop_RunningJobsFinish(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noStart: true, config: func(c *jobs.Config) { c.Workers = 2 }})
	arrived, release := b.faults.holdCreates()
	t.Cleanup(release)
	var ids []string
	for range 6 {
		tk := createOne(t, b, &scorebridge.TicketRequest{RecommendationIDs: []string{"mfa-admins"}, Type: scorebridge.TicketIncident, Name: "MFA", Priority: 2})
		ids = append(ids, tk.ID)
	}
	runCtx, signal := context.WithCancel(b.ctx)
	if err := b.runner.Start(runCtx); err != nil {
		t.Fatal(err)
	}
	// Both workers are mid-create when the signal comes.
	<-arrived
	<-arrived
	signal()
	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		stopped <- b.runner.Stop(ctx)
	}()
	release()
	if err := <-stopped; err != nil {
		t.Fatalf("stop: %v", err)
	}

	sent := 0
	for _, id := range ids {
		tk, err := b.tickets.FindTicketByID(b.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if tk.Status == scorebridge.TicketSent {
			sent++
		} else if tk.Status != scorebridge.TicketQueued || tk.Error != "" {
			t.Errorf("ticket %s is %s (%s) after the stop", id, tk.Status, tk.Error)
		}
	}
	if sent != 2 {
		t.Errorf("%d tickets sent before the stop, want the 2 that were running", sent)
	}
	assertNoLostAttempt(t, b)

	// The next start sends the rest, each once.
	next, err := jobs.New(b.ctx, b.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := next.Start(b.ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		next.Stop(ctx)
	})
	nb := *b
	nb.runner, nb.tickets = next, next.Tickets()
	for _, id := range ids {
		if got := nb.waitTicket(t, id, nil); got.Status != scorebridge.TicketSent {
			t.Fatalf("ticket %s: %+v", id, got)
		}
		if n := len(b.records(t, "incident", id)); n != 1 {
			t.Errorf("ticket %s: %d incidents, want 1", id, n)
		}
	}
	assertNoLostAttempt(t, b)
}

// assertNoLostAttempt fails the test for a ticket job that ran more than
// once or recorded an error.
func assertNoLostAttempt(t *testing.T, b *bundle) {
	t.Helper()
	rows, err := b.db.SQL.Query(`SELECT id, state, attempt, COALESCE(errors, '[]') FROM river_job WHERE kind = 'create_ticket'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, attempt int64
		var state, errs string
		if err := rows.Scan(&id, &state, &attempt, &errs); err != nil {
			t.Fatal(err)
		}
		if attempt > 1 || (errs != "[]" && errs != "") {
			t.Errorf("job %d (%s): attempt %d, errors %s", id, state, attempt, errs)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}
