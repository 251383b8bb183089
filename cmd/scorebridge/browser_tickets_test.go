package main

import (
	"context"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge/internal/browsertest"
)

// shareFromFormPage shares an action as an incident from the plain share
// page (no dialog), lands on the ticket's page and waits there until its
// "Ticket queued" notice says the ticket is in ServiceNow. It returns the
// ticket page's path.
func shareFromFormPage(t *testing.T, p *browsertest.Page, actionID string) string {
	t.Helper()
	p.Go("/tickets/new?id=" + actionID + "&type=incident")
	p.ClickAndLoad("form[data-share-form] button[type=submit]")
	path := p.Path()
	if !strings.HasPrefix(path, "/tickets/") || !strings.Contains(path, "done=queued") {
		t.Fatalf("sharing from the form page led to %s", path)
	}
	// The notice follows the ticket: it does not go on saying "queued".
	p.WaitText(".notice", "Ticket sent to ServiceNow as INC")
	p.WaitText("main .fields", "ServiceNow state")
	p.Check("ticket page, sent")
	return strings.SplitN(path, "?", 2)[0]
}

// TestBrowserRenameState: an admin renames the incident state New on the
// connection's state names page, and the ticket's page and the action's
// tickets name it so.
func TestBrowserRenameState(t *testing.T) {
	t.Parallel()
	d := browserDemo(t)
	p := browsertest.Open(t, d.center.URL(), 1280, 900)
	signInFirstTime(t, p)
	p.Go("/actions")
	action := strings.TrimPrefix(browsertest.Eval[string](p, `document.querySelector("table.actions-table tbody a[href^='/actions/']").getAttribute("href")`), "/actions/")
	ticket := shareFromFormPage(t, p, action)
	if got := p.Text("main .fields"); !strings.Contains(got, "New") {
		t.Fatalf("a new incident's state reads:\n%s", got)
	}

	c, err := d.center.conns.FindConnectionByID(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	p.Go("/connections/" + c.ID + "/state-names")
	p.Check("state names page")
	p.Fill(`input[name="name.incident.1"]`, "Waiting for triage")
	p.ClickAndLoad("#state-names-save")
	p.Check("state names saved")
	if got := browsertest.Eval[string](p, `document.querySelector('input[name="name.incident.1"]').value`); got != "Waiting for triage" {
		t.Errorf("after saving, the field holds %q", got)
	}

	p.Go(ticket)
	if got := p.Text("main .fields"); !strings.Contains(got, "Waiting for triage") {
		t.Errorf("the ticket's page does not use the new name:\n%s", got)
	}
	p.Go("/actions/" + action)
	p.Check("action page with a renamed state")
	if got := p.Text("[data-action-tickets]"); !strings.Contains(got, "Waiting for triage") {
		t.Errorf("the action's tickets do not use the new name:\n%s", got)
	}
}
