package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/scorebridge/scorebridge/connection"
	"github.com/scorebridge/scorebridge/internal/browsertest"
	"github.com/scorebridge/scorebridge/snowsim"
)

// activeInDialog reports whether the focus is inside the open share dialog.
const activeInDialog = `(() => { const d = document.querySelector("dialog.share-dialog[open]"); return !!d && d.contains(document.activeElement); })()`

// setValues sets form fields by CSS selector at once (what typing 4,000
// characters would do, without the wait).
func setValues(p *browsertest.Page, values map[string]string) {
	for sel, v := range values {
		browsertest.Eval[bool](p, fmt.Sprintf(`(() => { const el = document.querySelector(%q); el.value = %q; return true; })()`, sel, v))
	}
}

// TestBrowserShareOneAndThree: an operator shares one action from its row's
// share menu, by keyboard alone: the menu opens and moves with the arrow
// keys, the dialog keeps the focus inside, shows every error of the form
// next to its field at once, follows the ticket until ServiceNow has it,
// and gives the focus back to the share icon. Then three actions, ticked on
// two pages of the list, are shared at once, and the dialog counts them
// done live. A ticket the instance refuses shows why, with a Retry that
// sends it.
func TestBrowserShareOneAndThree(t *testing.T) {
	t.Parallel()
	d := browserDemo(t)
	p := browsertest.Open(t, d.center.URL(), 1280, 900)
	signInFirstTime(t, p)

	p.Go("/actions")
	p.Check("actions list")
	first := `table.actions-table tbody tr:first-child details[data-menu] > summary`
	title := p.Text(`table.actions-table tbody tr:first-child td:nth-child(2) a`)
	action := strings.TrimPrefix(browsertest.Eval[string](p, `document.querySelector("table.actions-table tbody tr:first-child td:nth-child(2) a").getAttribute("href")`), "/actions/")

	// The menu, by keyboard.
	p.Do(chromedp.Focus(chromedp.CSS(first)), chromedp.KeyEvent(kb.Enter))
	p.WaitVisible(`table.actions-table tbody tr:first-child [role=menuitem]`)
	if got := browsertest.Eval[string](p, `document.activeElement.textContent`); got != "Incident management" {
		t.Errorf("the open menu focuses %q, want its first item", got)
	}
	p.Do(chromedp.KeyEvent(kb.ArrowDown))
	if got := browsertest.Eval[string](p, `document.activeElement.textContent`); got != "Change management" {
		t.Errorf("ArrowDown moves the focus to %q, want the second item", got)
	}
	p.Check("share menu open")
	p.Do(chromedp.KeyEvent(kb.Escape))
	if browsertest.Eval[bool](p, `document.querySelector("details[data-menu][open]") !== null`) ||
		!browsertest.Eval[bool](p, `document.activeElement === document.querySelector("`+first+`")`) {
		t.Error("Escape does not close the menu and give the focus back to the share icon")
	}

	// The dialog: open from the menu's first item with Enter.
	p.Do(chromedp.KeyEvent(kb.Enter))
	p.WaitVisible(`table.actions-table tbody tr:first-child [role=menuitem]`)
	p.Do(chromedp.KeyEvent(kb.Enter))
	p.WaitVisible(`dialog.share-dialog[open] form[data-share-form] #name`)
	if got := p.Text(`dialog.share-dialog[open] .share-actions`); !strings.Contains(got, title) {
		t.Errorf("the dialog shares %q, want the row's action %q", got, title)
	}
	p.Check("share dialog")
	for i := 0; i < 25; i++ {
		p.Do(chromedp.KeyEvent(kb.Tab))
		if !browsertest.Eval[bool](p, activeInDialog) {
			t.Fatalf("Tab %d took the focus out of the dialog, to %s", i+1, browsertest.Eval[string](p, `document.activeElement.outerHTML.slice(0, 120)`))
		}
	}
	p.Do(chromedp.KeyEvent(kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift)))
	if !browsertest.Eval[bool](p, activeInDialog) {
		t.Fatal("Shift+Tab took the focus out of the dialog")
	}

	// Every problem at once, next to its field, in plain words; the page
	// behind stays where it was.
	p.ExpectErrorStatus("/tickets")
	setValues(p, map[string]string{"dialog #name": "", "dialog #dueDate": "2001-01-01", "dialog #description": strings.Repeat("x", 4010)})
	p.Click(`dialog button[type=submit]`)
	p.WaitVisible(`dialog #name-error`)
	p.Check("share dialog with errors")
	for sel, want := range map[string]string{
		"dialog #name-error":        "Give the ticket a name",
		"dialog #dueDate-error":     "The due date has passed",
		"dialog #description-error": "ServiceNow keeps at most 4000",
	} {
		if got := p.Text(sel); !strings.Contains(got, want) {
			t.Errorf("%s says %q, want %q", sel, got, want)
		}
	}
	if path := p.Path(); path != "/actions" {
		t.Errorf("the errors came back on %s, not in place on /actions", path)
	}
	if !browsertest.Eval[bool](p, `document.activeElement === document.querySelector("dialog #name")`) {
		t.Error("the focus is not on the first field with an error")
	}

	// Fixed, it is sent, and the dialog follows it until ServiceNow has it.
	setValues(p, map[string]string{"dialog #description": "", "dialog #dueDate": ""})
	p.Fill(`dialog #name`, title)
	p.Click(`dialog button[type=submit]`)
	p.WaitText(`dialog [data-progress-text]`, "Done: the ticket is in ServiceNow.")
	p.Check("share dialog, sent")
	if got := p.Text(`dialog [data-ticket-list]`); !strings.Contains(got, "Sent: INC") || !strings.Contains(got, "View in ServiceNow") {
		t.Errorf("the sent ticket reads %q", got)
	}
	p.Click(`dialog [data-dialog-close]`)
	// The dialog's close event, which gives the focus back, runs as a task
	// after the click: wait for it.
	browsertest.Run(p, chromedp.PollFunction[bool](`(sel) => !document.querySelector("dialog.share-dialog[open]") && document.activeElement === document.querySelector(sel)`,
		chromedp.WithPollingArgs(first), chromedp.WithPollingTimeout(browsertest.ActionTimeout)))

	// Three at once, two ticked here and one on the next page: the
	// selection is kept while paging, and the count says so.
	if err := d.sim.SetFaults(snowsim.Faults{Latency: 400 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	p.Click(`table.actions-table tbody tr:nth-child(2) input[type=checkbox]`)
	p.Click(`table.actions-table tbody tr:nth-child(3) input[type=checkbox]`)
	p.ClickAndLoad(`.pager a[rel=next]`)
	p.Click(`table.actions-table tbody tr:first-child input[type=checkbox]`)
	if got := p.Text("[data-selection-count]"); got != "3 actions selected (2 on other pages)" {
		t.Errorf("the selection count reads %q", got)
	}
	p.Check("actions list, page 2, with a selection")
	// Record what the dialog says while it works.
	browsertest.Eval[bool](p, `(() => {
		window.progressSeen = [];
		new MutationObserver(() => {
			const el = document.querySelector("dialog [data-progress-text]");
			if (el && window.progressSeen[window.progressSeen.length - 1] !== el.textContent) window.progressSeen.push(el.textContent);
		}).observe(document.body, {subtree: true, childList: true, characterData: true});
		return true;
	})()`)
	p.Click(`#share-selected button[type=submit]`)
	p.WaitVisible(`dialog.share-dialog[open] form[data-share-form] input[name=mode]`)
	if n := browsertest.Eval[int](p, `document.querySelectorAll("dialog .share-actions li").length`); n != 3 {
		t.Fatalf("the dialog shares %d actions, want the 3 ticked", n)
	}
	p.Click(`dialog button[type=submit]`)
	p.WaitText(`dialog [data-progress-text]`, "of 3 done")
	p.Check("share dialog, three in progress")
	p.WaitText(`dialog [data-progress-text]`, "Done: all 3 tickets are in ServiceNow.")
	seen := browsertest.Eval[[]string](p, `window.progressSeen`)
	if len(seen) < 2 || !strings.HasPrefix(seen[0], "0 of 3 done") {
		t.Errorf("the dialog's progress read %q, want it to count from 0 of 3 up to done", seen)
	}
	if got := browsertest.Eval[int](p, `document.querySelector("dialog progress").value`); got != 3 {
		t.Errorf("the progress bar stands at %d of 3", got)
	}
	if n := browsertest.Eval[int](p, `Array.from(document.querySelectorAll("dialog [data-ticket-list] li")).filter(li => li.textContent.includes("Sent: INC")).length`); n != 3 {
		t.Errorf("%d of 3 tickets show as sent with their number", n)
	}
	p.Click(`dialog [data-dialog-close]`)
	if got := p.Text("[data-selection-count]"); got != "Tick the actions to share." {
		t.Errorf("after sharing, the selection count reads %q, want it cleared", got)
	}

	// A ticket the instance refuses shows its reason and a Retry, which
	// sends it once the cause is gone: here the integration user loses the
	// role that may create incidents, and gets it back.
	if err := d.sim.SetFaults(snowsim.Faults{}); err != nil {
		t.Fatal(err)
	}
	users, err := d.sim.Query("sys_user", "user_name="+connection.DefaultIntegrationUser)
	if err != nil || len(users) != 1 {
		t.Fatalf("integration user: %v %v", users, err)
	}
	grants, err := d.sim.Query("sys_user_has_role", "user="+users[0]["sys_id"])
	if err != nil || len(grants) == 0 {
		t.Fatalf("the integration user's roles: %v %v", grants, err)
	}
	for _, g := range grants {
		if err := d.sim.Delete("sys_user_has_role", g["sys_id"]); err != nil {
			t.Fatal(err)
		}
	}
	p.Click(`table.actions-table tbody tr:nth-child(2) details[data-menu] > summary`)
	p.Click(`table.actions-table tbody tr:nth-child(2) [role=menuitem]`)
	p.WaitVisible(`dialog.share-dialog[open] form[data-share-form] #name`)
	p.Click(`dialog button[type=submit]`)
	p.WaitText(`dialog [data-progress-text]`, "1 failed: retry it below.")
	p.Check("share dialog with a failed ticket")
	if got := p.Text(`dialog [data-ticket-list]`); !strings.Contains(got, "Failed") {
		t.Errorf("the failed ticket reads %q", got)
	}
	for _, g := range grants {
		if _, err := d.sim.Insert("sys_user_has_role", map[string]string{"user": g["user"], "role": g["role"]}); err != nil {
			t.Fatal(err)
		}
	}
	p.Click(`dialog [data-ticket-list] button`)
	p.WaitText(`dialog [data-progress-text]`, "Done: the ticket is in ServiceNow.")
	p.Check("share dialog, retried and sent")

	// From an action's own page, the action's tickets show the new one
	// when the dialog closes, without reloading the page.
	p.Go("/actions/" + action)
	before := browsertest.Eval[int](p, `document.querySelectorAll("[data-action-tickets] tbody tr").length`)
	browsertest.Eval[bool](p, `window.notReloaded = true`)
	p.Click(`[data-action-tickets] details[data-menu] > summary`)
	p.Click(`[data-action-tickets] [role=menuitem][href*="type=change"]`)
	p.WaitVisible(`dialog.share-dialog[open] form[data-share-form] #name`)
	p.Click(`dialog button[type=submit]`)
	p.WaitText(`dialog [data-progress-text]`, "Done: the ticket is in ServiceNow.")
	p.Click(`dialog [data-dialog-close]`)
	p.WaitText(`[data-action-tickets] tbody`, "Change management")
	if n := browsertest.Eval[int](p, `document.querySelectorAll("[data-action-tickets] tbody tr").length`); n != before+1 {
		t.Errorf("the action's tickets show %d rows after the share, want %d", n, before+1)
	}
	if !browsertest.Eval[bool](p, `window.notReloaded === true`) {
		t.Error("the action page was reloaded to show the new ticket")
	}
	p.Check("action page with its new ticket in place")
}
