package main

import (
	"context"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge/connection"
	"github.com/scorebridge/scorebridge/internal/browsertest"
	"github.com/scorebridge/scorebridge/servicenow"
	"github.com/scorebridge/scorebridge/snowsim/consent"
)

// signIn signs in an admin whose password is already chosen, in a browser
// of its own: another session than any other browser's.
func signIn(t *testing.T, p *browsertest.Page) {
	t.Helper()
	p.Go("/login")
	p.Fill("#name", "admin")
	p.Fill("#password", adminPassword)
	p.ClickAndLoad("form[action='/login'] button[type=submit]")
	if path := p.Path(); strings.HasPrefix(path, "/login") {
		t.Fatalf("signing in again left the browser on %s", path)
	}
}

// onSimulator signs in on the simulator's login page, when it shows, and
// presses Allow on its consent page, as the person at the browser does.
// shownAs is the user's name as the consent page shows it.
func onSimulator(t *testing.T, p *browsertest.Page, user, password, shownAs string) {
	t.Helper()
	p.WaitVisible("#login_form, #consent_form")
	if browsertest.Eval[bool](p, `!!document.getElementById("login_form")`) {
		p.Fill("#user_name", user)
		p.Fill("#user_password", password)
		p.ClickAndLoad("#sysverb_login")
	}
	if got := p.Text("#consent_form"); got == "" {
		t.Fatal("no consent page after signing in on the simulator")
	}
	if got := p.Text("main, body"); !strings.Contains(got, "Logged in as "+shownAs) {
		t.Fatalf("the consent page is not for %s:\n%s", shownAs, got)
	}
	p.ClickAndLoad("#allow")
}

// TestBrowserConnectThroughLoginAndConsent: an admin connects the center to
// the simulator the way a person does, through the checklist, the
// simulator's own login and consent pages. Authorizing signed in as the
// instance's admin is shown as a problem to redo, not a success; redoing it
// through "Not you?" as the integration user connects. A callback carried
// to another browser session is refused.
func TestBrowserConnectThroughLoginAndConsent(t *testing.T) {
	t.Parallel()
	d := browserDemo(t)
	p := browsertest.Open(t, d.center.URL(), 1280, 900)
	signInFirstTime(t, p)

	// Start from no connection: remove the demo's.
	c, err := d.center.conns.FindConnectionByID(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	p.Go("/connections/" + c.ID + "/remove")
	p.ClickAndLoad("form[action$='/remove'] button[type=submit]")
	p.Go("/connections/new")
	p.Check("setup page")

	// The checklist asks before giving the existing integration user a new
	// password, and changes nothing until the box is ticked.
	runChecklist := func(reset bool) {
		p.Go("/connections/new")
		p.Fill("#ck-instance", d.simURL)
		p.Fill("#adminUser", "admin")
		p.Fill("#adminPassword", demoAdminPassword)
		if reset {
			p.Click("input[name=resetPassword]")
		}
		p.ClickAndLoad("#checklist button[type=submit]")
	}
	p.ExpectErrorStatus("/connections/checklist")
	runChecklist(false)
	p.Check("checklist stopped before a password reset")
	if got := p.Text(".checks .check-failed"); !strings.Contains(got, "already exists") || !strings.Contains(got, "Reset the password") {
		t.Fatalf("the checklist did not ask before resetting the password: %q", got)
	}
	runChecklist(true)
	p.Check("checklist done")
	password := p.Text(".notice code")
	if len(password) < 12 {
		t.Fatalf("the checklist showed the integration password %q", password)
	}

	// Authorize, signed in on the instance as its admin: a problem.
	p.ClickAndLoad("form[action$='/authorize'] button[type=submit]")
	p.Check("authorize warning page")
	p.ClickAndLoad("a.button[href*='oauth_auth.do']")
	onSimulator(t, p, "admin", demoAdminPassword, "System Administrator")
	p.WaitVisible(".card.problem")
	p.Check("connection authorized as the wrong user")
	if got := p.Text(".card.problem"); !strings.Contains(got, "Authorized as admin, not the integration user") || !strings.Contains(got, "Keep admin") {
		t.Errorf("the wrong user's warning reads %q", got)
	}
	if got := browsertest.Eval[string](p, `(document.querySelector(".notice") || {}).textContent || ""`); strings.Contains(got, "Authorized:") {
		t.Errorf("the wrong user is reported as a success: %q", got)
	}
	connURL := p.Path()
	p.Go(connURL + "/doctor")
	p.Check("doctor with the wrong user")
	if got := p.Text(".checks .check-failed"); !strings.Contains(got, connection.CheckAuthorizedAs) || !strings.Contains(got, "admin") {
		t.Errorf("the doctor's failing check reads %q", got)
	}

	// Redo it as the integration user: "Not you?" on the consent page.
	p.Go(connURL)
	p.ClickAndLoad(".card.problem form[action$='/authorize'] button")
	p.ClickAndLoad("a.button[href*='oauth_auth.do']")
	p.WaitVisible("#consent_form")
	p.ClickAndLoad("#not_you")
	onSimulator(t, p, connection.DefaultIntegrationUser, password, "scorebridge integration")
	p.WaitVisible(".notice")
	p.Check("connection authorized")
	if got := p.Text(".notice"); !strings.Contains(got, "Authorized: the center is connected") {
		t.Errorf("after authorizing as the integration user the page says %q", got)
	}
	if n := browsertest.Eval[int](p, `document.querySelectorAll(".card.problem").length`); n != 0 {
		t.Error("the wrong user's warning stays after authorizing as the integration user")
	}

	// A callback from another browser session is refused: this browser
	// starts the authorization, the integration user allows it, and the
	// answer is opened in a second browser signed in as the same admin.
	p.ClickAndLoad("form[action$='/authorize'] button[type=submit]")
	authURL := browsertest.Eval[string](p, `document.querySelector("a.button[href*='oauth_auth.do']").href`)
	cb, err := consent.AllowAs(context.Background(), servicenow.NewHTTPClient(servicenow.HTTPOptions{AllowPrivate: true}), authURL, connection.DefaultIntegrationUser, password)
	if err != nil {
		t.Fatal(err)
	}
	other := browsertest.Open(t, d.center.URL(), 1280, 900)
	signIn(t, other)
	other.ExpectErrorStatus("/connections/callback")
	other.Go(cb.RequestURI())
	other.Check("a callback from another session")
	if got := other.Text("main"); !strings.Contains(got, "another browser session") {
		t.Errorf("a callback from another session answered:\n%s", got)
	}
}
