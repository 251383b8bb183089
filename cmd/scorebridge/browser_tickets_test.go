package main

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
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

// TestBrowserTicketCardFollowsServiceNow: a shared incident counts as New
// on the home page's Incident management card; a ServiceNow agent resolves
// it on the simulator's own record page, and after the center's sync the
// card counts it as Resolved.
func TestBrowserTicketCardFollowsServiceNow(t *testing.T) {
	t.Parallel()
	d := browserDemo(t)
	p := browsertest.Open(t, d.center.URL(), 1280, 900)
	signInFirstTime(t, p)
	p.Go("/actions")
	action := strings.TrimPrefix(browsertest.Eval[string](p, `document.querySelector("table.actions-table tbody a[href^='/actions/']").getAttribute("href")`), "/actions/")
	ticket := shareFromFormPage(t, p, action)
	record := browsertest.Eval[string](p, `document.querySelector("main a[href*='sys_id']").href`)
	number := browsertest.Eval[string](p, `document.querySelector("main .badge.ticket-sent").textContent`)

	card := "#ticket-card-incident"
	p.Go("/")
	p.Check("home with a new incident")
	if got := p.Text(card + "-state-1 td"); got != "1" {
		t.Fatalf("the Incident management card counts %q New tickets, want 1:\n%s", got, p.Text(card))
	}

	// On the instance, as its agent would: sign in, open the record,
	// Resolve.
	p.Do(chromedp.Navigate(record))
	p.WaitVisible("#login_form, #incident_form")
	if browsertest.Eval[bool](p, `!!document.getElementById("login_form")`) {
		p.Fill("#user_name", "admin")
		p.Fill("#user_password", demoAdminPassword)
		p.ClickAndLoad("#sysverb_login")
	}
	if got := p.Text("h1"); !strings.Contains(got, number) {
		t.Fatalf("the simulator's record page is %q, want %s", got, number)
	}
	closeCode := browsertest.Eval[string](p, `(document.querySelector("#close_code option:not([value=''])") || {value: ""}).value`)
	setValues(p, map[string]string{"#close_code": closeCode})
	p.Do(chromedp.SendKeys(chromedp.CSS("#close_notes"), "MFA turned on for every admin."))
	p.ClickAndLoad("#resolve_incident")
	if got := p.Text("#fields"); !strings.Contains(got, "Resolved") {
		t.Fatalf("after Resolve the record reads:\n%s", got)
	}

	// The center syncs (Sync now, as an admin would rather than wait for
	// the interval) and the card moves the ticket to Resolved.
	c, err := d.center.conns.FindConnectionByID(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	p.Go("/connections/" + c.ID + "/tracking")
	p.ClickAndLoad("form[action$='/sync'] button[type=submit]")
	p.Check("tracking page after Sync now")
	p.Go("/")
	p.Check("home with a resolved incident")
	if got := p.Text(card + "-state-6 td"); got != "1" {
		t.Errorf("the card counts %q Resolved tickets, want 1:\n%s", got, p.Text(card))
	}
	if n := browsertest.Eval[int](p, `document.querySelectorAll("`+card+`-state-1").length`); n != 0 {
		t.Errorf("the card still has a New row:\n%s", p.Text(card))
	}
	p.Go(ticket)
	if got := p.Text("main .fields"); !strings.Contains(got, "Resolved") {
		t.Errorf("the ticket's page does not say Resolved:\n%s", got)
	}
}
