package web

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge/secret"
	"github.com/scorebridge/scorebridge/sqlstore"
	"github.com/scorebridge/scorebridge/tracking"
)

// TestTicketPageShowsTrackedFields: a ticket changed on the instance shows
// its state, close code and notes, the latest work note and comment, and
// its history of changes on its page.
func TestTicketPageShowsTrackedFields(t *testing.T) {
	t.Parallel()
	b, instances, sim := ticketSetup(t)
	var created apiTicket
	b.sendJSON(t, http.MethodPost, "/api/v1/tickets", `{"recommendationId":"mfa","type":"incident","name":"Require MFA","priority":2}`).
		wantStatus(t, http.StatusAccepted).decode(t, &created)
	sent := waitAPITicket(t, b, created.ID)
	box, err := secret.NewBox(bytes.Repeat([]byte{5}, 32))
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	trk, err := tracking.New(tracking.Config{Store: sqlstore.NewTrackingStore(b.db, box), Instances: instances, Recommendations: b.recs, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer(Config{Recommendations: b.recs, Scores: b.scores, Tickets: b.runner.Tickets(), Tracking: trk, Logger: logger, User: DefaultUser, DataVersion: b.db.Version})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)

	if _, err := trk.SyncConnection(t.Context(), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := sim.Update("incident", sent.SysID, map[string]string{"state": "2", "work_notes": "Looking at the policy", "comments": "We are on it"}); err != nil {
		t.Fatal(err)
	}
	if _, err := sim.Update("incident", sent.SysID, map[string]string{"state": "6", "close_code": "Solution provided", "close_notes": "MFA required for admins"}); err != nil {
		t.Fatal(err)
	}
	if _, err := trk.SyncConnection(t.Context(), ""); err != nil {
		t.Fatal(err)
	}
	page := get(t, ts, "/tickets/"+created.ID)
	for _, want := range []string{"In ServiceNow", "Resolved", "Solution provided", "MFA required for admins", "Looking at the policy", "We are on it", "History of changes", "2 - High"} {
		if !strings.Contains(page, want) {
			t.Errorf("the ticket page lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("page:\n%s", page)
	}
	api := get(t, ts, "/api/v1/tickets/"+created.ID+"/tracking")
	for _, want := range []string{`"stateName":"Resolved"`, `"closeCode":"Solution provided"`, `"workNotes":"`, `"history":[{`} {
		if !strings.Contains(api, want) {
			t.Errorf("GET /api/v1/tickets/{id}/tracking lacks %s: %s", want, api)
		}
	}
	resp, err := http.Get(ts.URL + "/api/v1/tickets/no-such-ticket/tracking")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("tracking of an unknown ticket: %d, want 404", resp.StatusCode)
	}
}
