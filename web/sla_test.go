package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/sqlstore"
)

func TestSLASettingsAPIAndHomeCards(t *testing.T) {
	b := setup(t, setupOptions{noCatalog: true, settings: true, sla: true})
	api := b.do(t, http.MethodGet, "/api/v1/sla", "", "")
	if api.StatusCode != http.StatusOK || !strings.Contains(api.body, `"dueDays":{"1":7,"2":14,"3":30,"4":90,"5":180}`) || !strings.Contains(api.body, `"overdueWorkNote":false`) {
		t.Fatalf("GET /api/v1/sla: %d %s", api.StatusCode, api.body)
	}
	// Bad input names the field, and nothing is saved.
	for body, field := range map[string]string{
		`{"dueDays":{"2":0}}`:          "dueDays.2",
		`{"dueDays":{"9":10}}`:         "dueDays.9",
		`{"dueDays":{"high":10}}`:      "dueDays.high",
		`{"dueDays":{"1":2.5}}`:        "dueDays.1",
		`{"dueDays":[7]}`:              "dueDays",
		`{"graceDays":-1}`:             "graceDays",
		`{"overdueWorkNote":"yes"}`:    "overdueWorkNote",
		`{"p1":7}`:                     "p1",
		`{}`:                           "dueDays",
		`{"dueDays":{"1":3,"3":4000}}`: "dueDays.3",
	} {
		resp := b.do(t, http.MethodPut, "/api/v1/sla", "application/json", body)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(resp.body, `"field":"`+field+`"`) {
			t.Errorf("PUT %s: %d %s", body, resp.StatusCode, resp.body)
		}
	}
	resp := b.do(t, http.MethodPut, "/api/v1/sla", "application/json", `{"dueDays":{"2":21},"graceDays":2,"overdueWorkNote":true}`)
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.body, `"2":21`) || !strings.Contains(resp.body, `"1":7`) || !strings.Contains(resp.body, `"graceDays":2`) || !strings.Contains(resp.body, `"overdueWorkNote":true`) {
		t.Fatalf("PUT: %d %s", resp.StatusCode, resp.body)
	}
	// The Settings page has the SLA's section; its form refuses a bad
	// value naming it and keeps what was typed.
	page := b.do(t, http.MethodGet, "/settings", "", "")
	if !strings.Contains(page.body, "Ticket SLAs") || !strings.Contains(page.body, `name="sla.p2" value="21"`) {
		t.Fatalf("settings page lacks the SLA section:\n%s", page.body)
	}
	form := url.Values{"sla.p1": {"7"}, "sla.p2": {"abc"}, "sla.p3": {"30"}, "sla.p4": {"90"}, "sla.p5": {"180"}, "sla.graceDays": {"0"}}
	bad := b.do(t, http.MethodPost, "/settings/sla", "application/x-www-form-urlencoded", form.Encode())
	if bad.StatusCode != http.StatusBadRequest || !strings.Contains(bad.body, `&#34;abc&#34; is not a whole number of days`) || !strings.Contains(bad.body, `name="sla.p2" value="abc"`) {
		t.Fatalf("bad form: %d\n%s", bad.StatusCode, bad.body)
	}
	form.Set("sla.p2", "10")
	form.Set("sla.p5", "0")
	if bad := b.do(t, http.MethodPost, "/settings/sla", "application/x-www-form-urlencoded", form.Encode()); bad.StatusCode != http.StatusBadRequest || !strings.Contains(bad.body, "P5&#39;s due days must be") {
		t.Fatalf("zero days: %d\n%s", bad.StatusCode, bad.body)
	}
	form.Set("sla.p5", "120")
	if ok := b.do(t, http.MethodPost, "/settings/sla", "application/x-www-form-urlencoded", form.Encode()); ok.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d %s", ok.StatusCode, ok.body)
	}
	api = b.do(t, http.MethodGet, "/api/v1/sla", "", "")
	if !strings.Contains(api.body, `"2":10`) || !strings.Contains(api.body, `"5":120`) || !strings.Contains(api.body, `"overdueWorkNote":false`) || !strings.Contains(api.body, `"updatedBy":"admin"`) {
		t.Fatalf("after the form: %s", api.body)
	}

	// The home page: an Overdue card linking to the filter, and the time
	// to close per category from resolved tickets.
	ctx := context.Background()
	store := sqlstore.NewTicketStore(b.db)
	noJobs := func(context.Context, sqlstore.TicketTx, []string) error { return nil }
	mk := func(id string, due string, cat scorebridge.Category) {
		tk := &scorebridge.Ticket{ID: id, RecommendationIDs: []string{id}, Type: scorebridge.TicketIncident, Name: id, Priority: 3, DueDate: due, RequestedBy: "admin",
			Actions: []scorebridge.TicketAction{{ID: id, Category: cat}}}
		if err := store.InsertTickets(ctx, []*scorebridge.Ticket{tk}, noJobs); err != nil {
			t.Fatal(err)
		}
		if err := store.MarkTicketSent(ctx, id, sqlstore.TicketResult{Number: "INC" + id, SysID: id, State: "1", StateName: "New"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().UTC().AddDate(0, 0, -5).Format(scorebridge.DueDateLayout)
	future := time.Now().UTC().AddDate(0, 0, 5).Format(scorebridge.DueDateLayout)
	mk("late1", past, scorebridge.CategoryIdentity)
	mk("late2", past, scorebridge.CategoryIdentity)
	mk("ontime", future, scorebridge.CategoryDevices)
	resolved := time.Now().UTC().Add(72 * time.Hour).Format("2006-01-02 15:04:05")
	if _, err := b.db.SQL.ExecContext(ctx, `UPDATE tickets SET state_class = 'resolved', resolved_at = ? WHERE id = 'ontime'`, resolved); err != nil {
		t.Fatal(err)
	}
	home := b.do(t, http.MethodGet, "/", "", "")
	if !strings.Contains(home.body, `href="/tickets?overdue=true" aria-label="2 overdue tickets"`) {
		t.Fatalf("home page lacks the Overdue card with 2:\n%s", home.body)
	}
	if !strings.Contains(home.body, `<th scope="row">Devices</th><td class="num">1</td><td class="num">3.0 days</td><td class="num">3.0 days</td>`) {
		t.Fatalf("home page lacks the Devices time to close:\n%s", home.body)
	}
	if !strings.Contains(home.body, "Grace period: none") {
		t.Error("home page does not say the grace period")
	}
}
