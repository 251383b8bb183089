package web

import (
	"context"
	"net/http"
	"regexp"
	"testing"

	"github.com/scorebridge/scorebridge"
)

// cardCount reads a card's count of a state from the home page, -1 when
// the card has no such row.
func cardCount(t *testing.T, body, card, state string) int {
	t.Helper()
	m := regexp.MustCompile(`id="ticket-card-` + card + `-state-` + regexp.QuoteMeta(state) + `"><th scope="row">(?:<a [^>]*>)?([^<]*)(?:</a>)?</th><td class="num">(\d+)</td>`).FindStringSubmatch(body)
	if m == nil {
		return -1
	}
	n := 0
	for _, c := range m[2] {
		n = n*10 + int(c-'0')
	}
	return n
}

// TestHomeTicketCards: the change and incident management cards count by
// state with the state names, list the latest tickets, link to sharing,
// all tickets of the type and the ServiceNow configuration, change after a
// sync, and tell a new user what to do when there is nothing to show.
func TestHomeTicketCards(t *testing.T) {
	b := trackedSetup(t)
	ctx := context.Background()
	home := b.get(t, "/").wantStatus(t, http.StatusOK)
	home.wantContains(t, `id="ticket-card-change"`, `id="ticket-card-incident"`, "Change management tickets", "Incident management tickets",
		"No change management tickets yet", `id="ticket-card-change-create" href="/actions?todo=true"`,
		`id="ticket-card-incident-view-all" href="/tickets?type=incident"`, `id="ticket-card-change-manage" href="/connections/`+b.conn.ID+`"`)

	inc := b.sent(t, &scorebridge.Ticket{ID: "i1", RecommendationIDs: []string{"x"}, Type: scorebridge.TicketIncident, Name: "Turn on MFA", ConnectionID: b.conn.ID})
	b.sent(t, &scorebridge.Ticket{ID: "i2", RecommendationIDs: []string{"x"}, Type: scorebridge.TicketIncident, Name: "Encrypt disks", ConnectionID: b.conn.ID})
	b.sent(t, &scorebridge.Ticket{ID: "c1", RecommendationIDs: []string{"x"}, Type: scorebridge.TicketChange, Name: "Block legacy auth", ConnectionID: b.conn.ID})
	if _, err := b.tracking.SyncConnection(ctx, b.conn.ID); err != nil {
		t.Fatal(err)
	}
	home = b.get(t, "/").wantStatus(t, http.StatusOK)
	if n := cardCount(t, home.body, "incident", "1"); n != 2 {
		t.Fatalf("incident card counts %d new, want 2", n)
	}
	if n := cardCount(t, home.body, "change", "-5"); n != 1 {
		t.Fatalf("change card counts %d new, want 1", n)
	}
	home.wantContains(t, `href="/tickets/i1"`, "Turn on MFA", `href="/tickets?state=1&amp;status=sent&amp;type=incident"`, `id="ticket-card-incident-total">2<`)

	// The instance moves one incident on; after the sync the card says so,
	// with the admin's name for the state.
	if _, err := b.sim.Update("incident", inc.SysID, map[string]string{"state": "2"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.tracking.SyncConnection(ctx, b.conn.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.tracking.RenameStates(ctx, b.conn.ID, []scorebridge.StateRename{{Table: "incident", Value: "2", Name: "Being fixed"}}); err != nil {
		t.Fatal(err)
	}
	home = b.get(t, "/").wantStatus(t, http.StatusOK)
	if n := cardCount(t, home.body, "incident", "1"); n != 1 {
		t.Fatalf("after the sync the incident card counts %d new, want 1", n)
	}
	if n := cardCount(t, home.body, "incident", "2"); n != 1 {
		t.Fatalf("after the sync the incident card counts %d in progress, want 1", n)
	}
	home.wantContains(t, ">Being fixed</a>")

	// Without a connection the cards say to connect first.
	if err := b.svc.RemoveConnection(ctx, b.conn.ID); err != nil {
		t.Fatal(err)
	}
	b.get(t, "/").wantStatus(t, http.StatusOK).wantContains(t, `id="ticket-card-change-manage" href="/connections">Connect to ServiceNow</a>`)
}
