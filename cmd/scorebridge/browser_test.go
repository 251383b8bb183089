package main

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge/internal/browsertest"
)

// The browser tests drive Debian's Chromium through the real center, as a
// person would, and check every page they pass with browsertest's Check.

// firstPassword is the first admin's password in the browser tests
// (SCOREBRIDGE_ADMIN_PASSWORD); the first sign-in must replace it.
const firstPassword = "First-start-password-1"

// adminPassword is the password the tests choose at first sign-in.
const adminPassword = "Chosen-at-first-sign-in-2"

// browserDemo starts the demo (a center connected to its own simulator) on
// free ports, with a known first password.
func browserDemo(t *testing.T) *demo {
	t.Helper()
	return startTestDemoWith(t, filepath.Join(t.TempDir(), "browser.db"), firstPassword)
}

// signInFirstTime signs in as the first admin with the first password and
// chooses a new one, as the first start asks.
func signInFirstTime(t *testing.T, p *browsertest.Page) {
	t.Helper()
	p.Go("/")
	if path := p.Path(); !strings.HasPrefix(path, "/login") {
		t.Fatalf("a signed-out browser opening / is on %s, want the sign-in page", path)
	}
	p.Check("sign-in page")
	p.Fill("#name", "admin")
	p.Fill("#password", firstPassword)
	p.ClickAndLoad("form[action='/login'] button[type=submit]")
	if path := p.Path(); !strings.HasPrefix(path, "/account/password") {
		t.Fatalf("after the first sign-in the browser is on %s, want the password change", path)
	}
	p.Check("forced password change")
	// A mismatch is refused next to the field, and nothing changes.
	p.ExpectErrorStatus("/account/password")
	p.Fill("#current", firstPassword)
	p.Fill("#password", adminPassword)
	p.Fill("#confirm", adminPassword+"x")
	p.ClickAndLoad("form[action='/account/password'] button[type=submit]")
	if got := p.Text("#confirm ~ .field-error, .field-error"); !strings.Contains(got, "differ") {
		t.Errorf("mismatched passwords: error %q, want one saying they differ", got)
	}
	p.Check("password change with an error")
	p.Fill("#current", firstPassword)
	p.Fill("#password", adminPassword)
	p.Fill("#confirm", adminPassword)
	p.ClickAndLoad("form[action='/account/password'] button[type=submit]")
	if path := p.Path(); strings.HasPrefix(path, "/account/password") || strings.HasPrefix(path, "/login") {
		t.Fatalf("after choosing a password the browser is on %s", path)
	}
}

// TestBrowserFirstRunAndEveryPage: a new admin signs in with the first
// password, must choose their own, and then every page of the center, at a
// phone's 360 px and a desktop's 1920 px, has no console error, no failed
// request, no serious accessibility problem and no sideways scrolling.
func TestBrowserFirstRunAndEveryPage(t *testing.T) {
	t.Parallel()
	d := browserDemo(t)
	p := browsertest.Open(t, d.center.URL(), 360, 800)
	signInFirstTime(t, p)
	p.Check("home after the first sign-in")

	// Under 700 px the navigation hides behind a menu button that opens it,
	// with the current page marked; the icon is there, not a 404.
	if browsertest.Eval[bool](p, `getComputedStyle(document.getElementById("main-nav")).display !== "none"`) {
		t.Error("at 360 px the navigation shows before the menu button is pressed")
	}
	p.Click(".menu-button")
	p.WaitVisible("#main-nav a[aria-current=page]")
	if got := p.Text("#main-nav a[aria-current=page]"); got != "Home" {
		t.Errorf("current page in the navigation = %q, want Home", got)
	}
	if got := p.Text("#main-nav .who"); !strings.Contains(got, "admin") || !strings.Contains(got, "Security admin") {
		t.Errorf("the signed-in user shows as %q, want the name and role", got)
	}
	if got := browsertest.Eval[int](p, `fetch("/favicon.ico").then(r => r.status)`); got != 200 {
		t.Errorf("/favicon.ico answered %d", got)
	}

	// The pages to check: every page the navigation leads to, and the
	// pages of one action, one connection and the forms.
	p.Go("/actions")
	action := browsertest.Eval[string](p, `(document.querySelector("table a[href^='/actions/']") || {}).getAttribute?.("href") || ""`)
	if action == "" {
		t.Fatal("the actions list links to no action")
	}
	p.Go("/connections")
	conn := browsertest.Eval[string](p, `(Array.from(document.querySelectorAll("a[href^='/connections/']")).map(a => a.getAttribute("href")).find(h => /^\/connections\/[^/]+$/.test(h) && h !== "/connections/new")) || ""`)
	if conn == "" {
		t.Fatal("the connections page links to no connection")
	}
	navLinks := browsertest.Eval[[]string](p, `Array.from(document.querySelectorAll("nav a[href^='/']")).map(a => a.getAttribute("href"))`)
	pages := append(navLinks,
		"/",
		action, "/actions/new",
		"/tickets/new?id="+url.QueryEscape(strings.TrimPrefix(action, "/actions/")),
		"/tickets",
		"/connections/new", conn, conn+"/doctor", conn+"/remove", conn+"/tracking", conn+"/state-names", "/ticketProvisioning",
		"/audit", "/access", "/account/password",
	)
	for _, width := range []int64{360, 1920} {
		p.Viewport(width, 900)
		seen := map[string]bool{}
		for _, path := range pages {
			if seen[path] {
				continue
			}
			seen[path] = true
			p.Go(path)
			p.Check(fmt.Sprintf("%s at %d px", path, width))
		}
	}

	// Sharing nothing is not offered: the bulk button waits for a tick.
	p.Go("/actions")
	if !browsertest.Eval[bool](p, `document.querySelector("[data-needs-selection]").disabled`) {
		t.Error("Share selected is enabled with nothing ticked")
	}
	p.Click(`input[type=checkbox][form="share-selected"]`)
	if browsertest.Eval[bool](p, `document.querySelector("[data-needs-selection]").disabled`) {
		t.Errorf("Share selected stays disabled with an action ticked (ticked: %v; %s)", browsertest.Eval[int](p, `document.querySelectorAll("input[form=share-selected]:checked").length`),
			browsertest.Eval[string](p, `document.querySelector("[data-selection-count]").textContent + " | " + document.querySelectorAll("[data-needs-selection]").length + " | " + document.querySelectorAll("form[id]").length + " | " + document.documentElement.className`))
	}

	// The audit log reads as sentences with a detail view, not raw JSON.
	p.Go("/audit")
	if got := p.Text(".audit-table tbody"); !strings.Contains(got, "Signed in") || !strings.Contains(got, "Changed password") {
		t.Errorf("the audit log does not name its events in words:\n%s", got)
	}
	if browsertest.Eval[int](p, `document.querySelectorAll(".audit-table details.audit-detail").length`) == 0 {
		t.Error("no audit event has a detail view")
	}
	// Times name their zone, and keep UTC on hover.
	if title := browsertest.Eval[string](p, `document.querySelector(".audit-table time").title`); !strings.HasSuffix(title, "UTC") {
		t.Errorf("an audit time's hover text is %q, want UTC", title)
	}

	// A page that is not there says so and offers the way back.
	p.ExpectErrorStatus("/actions/no-such-action")
	p.Go("/actions/no-such-action")
	p.Check("a missing action")
	if text := strings.ToLower(p.Text("main")); !strings.Contains(text, "not found") {
		t.Errorf("a missing action's page says %q", text)
	}
	if href := browsertest.Eval[string](p, `document.querySelector(".error-page a.button").getAttribute("href")`); href != "/actions" {
		t.Errorf("the missing action's way back leads to %q, want /actions", href)
	}
}

// TestBrowserDoctorWithBrokenConnection: with single sign-on turned on at
// the instance (so the integration user's password sign-in is refused), the
// doctor page names the failing check and its fix, and stays a sound page
// at a phone's width.
func TestBrowserDoctorWithBrokenConnection(t *testing.T) {
	t.Parallel()
	d := browserDemo(t)
	p := browsertest.Open(t, d.center.URL(), 360, 800)
	signInFirstTime(t, p)
	c, err := d.center.conns.FindConnectionByID(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	p.Go("/connections/" + c.ID + "/doctor")
	if got := p.Text("main"); !strings.Contains(got, "Every check passed") {
		t.Fatalf("the doctor of the demo's connection says:\n%s", got)
	}
	p.Check("doctor, all well")

	d.sim.SetSSO(true)
	p.Go("/connections/" + c.ID + "/doctor")
	p.Check("doctor, single sign-on on")
	failed := p.Text(".checks .check-failed")
	if !strings.Contains(failed, "Single sign-on") || !strings.Contains(failed, "Fix:") || !strings.Contains(failed, "side_door.do") {
		t.Errorf("the failing check reads %q, want the single sign-on check with its fix", failed)
	}
	if got := p.Text("main > .card > p"); !strings.Contains(got, "1 problem found") {
		t.Errorf("the doctor's summary says %q, want one problem", got)
	}
	// The way back leads to the connection.
	p.ClickAndLoad(".card a.button")
	if path := p.Path(); path != "/connections/"+c.ID {
		t.Errorf("the doctor's way back leads to %s", path)
	}
}
