package jobs_test

import (
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/jobs"
)

// Tickets waiting for their connection to be authorized again are sent as
// soon as it is (WakeConnection), not after the rest of their wait: here an
// hour, far past the test's own limit. Another connection's waiting ticket
// stays asleep.
func TestTicket_AuthorizationWakesWaitingTickets(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{config: func(c *jobs.Config) { c.AuthorizationWait = time.Hour }})
	snoozed, stop := b.runner.Subscribe(river.EventKindJobSnoozed)
	defer stop()
	b.instances.set("admin", "admin", scorebridge.Errorf(scorebridge.EUNAUTHORIZED, "The connection needs authorizing again."))
	mine := createOne(t, b, &scorebridge.TicketRequest{RecommendationIDs: []string{"mfa-admins"}, Type: scorebridge.TicketIncident, Name: "MFA", Priority: 1, ConnectionID: "c-1"})
	other := createOne(t, b, &scorebridge.TicketRequest{RecommendationIDs: []string{"bitlocker"}, Type: scorebridge.TicketIncident, Name: "BitLocker", Priority: 1, ConnectionID: "c-2"})
	// Both jobs asleep for their hour.
	for range 2 {
		select {
		case <-snoozed:
		case <-time.After(30 * time.Second):
			t.Fatal("the tickets did not start waiting within 30s")
		}
	}
	b.instances.set("admin", "admin", nil)
	if err := b.runner.WakeConnection(b.ctx, "c-1"); err != nil {
		t.Fatal(err)
	}
	got := b.waitTicket(t, mine.ID, nil)
	if got.Status != scorebridge.TicketSent || got.Error != "" || len(b.records(t, "incident", mine.ID)) != 1 {
		t.Fatalf("woken ticket %+v", got)
	}
	if o, err := b.tickets.FindTicketByID(b.ctx, other.ID); err != nil || o.Status != scorebridge.TicketQueued || o.Error == "" {
		t.Fatalf("the other connection's ticket %+v, %v: want it still waiting", o, err)
	}
}
