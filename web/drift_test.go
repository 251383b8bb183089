package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// TestDriftPageAndAPI lists a drifted action on the Drift page, its action
// page and GET /api/v1/drift, and acts on it once through the API.
func TestDriftPageAndAPI(t *testing.T) {
	t.Parallel()
	b, _, _ := ticketSetup(t)
	var created apiTicket
	b.sendJSON(t, http.MethodPost, "/api/v1/tickets", `{"recommendationId":"mfa","type":"incident","name":"Require MFA","priority":3}`).
		wantStatus(t, http.StatusAccepted).decode(t, &created)
	waitAPITicket(t, b, created.ID)
	if fresh, err := sqlstore.NewDriftStore(b.db).StartDrift(t.Context(), created.ID, scorebridge.DriftFinished); err != nil || !fresh {
		t.Fatalf("start drift: %v %v", fresh, err)
	}
	home := b.get(t, "/").wantStatus(t, http.StatusOK)
	if !strings.Contains(home.body, `href="/drift"`) {
		t.Fatal("no Drift entry in the navigation")
	}
	page := b.get(t, "/drift").wantStatus(t, http.StatusOK)
	if !strings.Contains(page.body, "Require MFA for admins") || !strings.Contains(page.body, `action="/drift/mfa/reopen"`) || !strings.Contains(page.body, `action="/drift/mfa/new-ticket"`) {
		t.Fatalf("drift page:\n%s", page.body)
	}
	action := b.get(t, "/actions/mfa").wantStatus(t, http.StatusOK)
	if !strings.Contains(action.body, "Reopen ticket") || !strings.Contains(action.body, "New linked ticket") {
		t.Fatal("the action page shows no drift buttons")
	}
	list := b.get(t, "/api/v1/drift?limit=10").wantStatus(t, http.StatusOK)
	if !strings.Contains(list.body, `"actionId":"mfa"`) || !strings.Contains(list.body, `"ticketId":"`+created.ID+`"`) || !strings.Contains(list.body, `"reason":"finished"`) {
		t.Fatalf("drift API: %s", list.body)
	}
	b.get(t, "/api/v1/drift?cursor=nonsense").wantStatus(t, http.StatusBadRequest)
	// The action page's button reopens, and comes back to the action.
	req, err := http.NewRequest(http.MethodPost, b.ts.URL+"/drift/mfa/reopen", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Referer", b.ts.URL+"/actions/mfa")
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/actions/mfa?done=reopen" {
		t.Fatalf("reopen from the action page: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if page := b.get(t, "/actions/mfa?done=reopen").wantStatus(t, http.StatusOK); !strings.Contains(page.body, "Reopen queued") || !strings.Contains(page.body, "Reopen asked by") {
		t.Fatalf("action page after the reopen:\n%s", page.body)
	}
	b.sendJSON(t, http.MethodPost, "/api/v1/drift/mfa/new-ticket", `{}`).wantStatus(t, http.StatusConflict)
	// A drift found anew (say the ticket was reopened and finished
	// again) may be followed by a new linked ticket.
	if err := sqlstore.NewTrackingStore(b.db, nil).SetDrift(t.Context(), created.ID, false); err != nil {
		t.Fatal(err)
	}
	if fresh, err := sqlstore.NewDriftStore(b.db).StartDrift(t.Context(), created.ID, scorebridge.DriftFinished); err != nil || !fresh {
		t.Fatalf("start drift again: %v %v", fresh, err)
	}
	r := b.sendJSON(t, http.MethodPost, "/api/v1/drift/mfa/new-ticket", `{}`).wantStatus(t, http.StatusAccepted)
	if !strings.HasPrefix(r.Header.Get("Location"), "/api/v1/tickets/") {
		t.Fatalf("new linked ticket: %s", r.body)
	}
	b.sendJSON(t, http.MethodPost, "/api/v1/drift/mfa/reopen", `{}`).wantStatus(t, http.StatusNotFound)
	b.sendJSON(t, http.MethodPost, "/api/v1/drift/disk/reopen", `{}`).wantStatus(t, http.StatusNotFound)
	if after := b.get(t, "/drift").wantStatus(t, http.StatusOK); strings.Contains(after.body, `action="/drift/mfa/reopen"`) {
		t.Fatal("the drift acted on is still offered")
	}
}
