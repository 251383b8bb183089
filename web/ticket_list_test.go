package web

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge"
)

type ticketList struct {
	Items []struct {
		ID        string `json:"id"`
		Type      string `json:"type"`
		State     string `json:"state"`
		StateName string `json:"stateName"`
		Status    string `json:"status"`
		URL       string `json:"url"`
	} `json:"items"`
	Next string `json:"next"`
}

func (l ticketList) ids() string {
	var out []string
	for _, it := range l.Items {
		out = append(out, it.ID)
	}
	return strings.Join(out, ",")
}

// TestTicketListAPI filters GET /api/v1/tickets by each parameter over
// HTTP, pages through it with its cursor, and refuses bad values naming
// the parameter.
func TestTicketListAPI(t *testing.T) {
	b := trackedSetup(t)
	ctx := context.Background()
	for i, typ := range []scorebridge.TicketType{scorebridge.TicketIncident, scorebridge.TicketChange, scorebridge.TicketProblem, scorebridge.TicketIncident, scorebridge.TicketIncident} {
		b.sent(t, &scorebridge.Ticket{ID: fmt.Sprintf("t%d", i), RecommendationIDs: []string{"x"}, Type: typ, Name: fmt.Sprintf("Fix %d", i), ConnectionID: b.conn.ID})
	}
	tk, _ := b.tickets.FindTicketByID(ctx, "t3")
	if _, err := b.sim.Update("incident", tk.SysID, map[string]string{"state": "2"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.tracking.SyncConnection(ctx, b.conn.ID); err != nil {
		t.Fatal(err)
	}

	var l ticketList
	for q, want := range map[string]string{
		"type=incident":       "t4,t3,t0",
		"type=change_request": "t1",
		"type=change":         "t1",
		"type=problem":        "t2",
		"type=incident&state=2&status=sent&connectionId=" + b.conn.ID: "t3",
		"status=queued":      "",
		"q=fix+4":            "t4",
		"assignee=Nobody":    "",
		"overdue=true":       "",
		"category=identity":  "",
		"sort=name&limit=2":  "t0,t1",
		"recommendationId=x": "t4,t3,t2,t1,t0",
	} {
		l = ticketList{}
		b.get(t, "/api/v1/tickets?"+q).wantStatus(t, http.StatusOK).decode(t, &l)
		if l.ids() != want {
			t.Errorf("GET /api/v1/tickets?%s: %q, want %q", q, l.ids(), want)
		}
	}
	l = ticketList{}
	b.get(t, "/api/v1/tickets?type=incident&state=2").decode(t, &l)
	if len(l.Items) != 1 || l.Items[0].StateName != "In Progress" {
		t.Fatalf("state filter: %+v", l)
	}

	// Paging: two at a time, every ticket once, the filter kept.
	var seen []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		l = ticketList{}
		b.get(t, "/api/v1/tickets?limit=2&cursor="+url.QueryEscape(cursor)).wantStatus(t, http.StatusOK).decode(t, &l)
		for _, it := range l.Items {
			seen = append(seen, it.ID)
		}
		if l.Next == "" {
			break
		}
		cursor = l.Next
	}
	if strings.Join(seen, ",") != "t4,t3,t2,t1,t0" {
		t.Fatalf("paged through %v", seen)
	}

	for q, field := range map[string]string{
		"type=task":                     "type",
		"state=open":                    "state",
		"status=lost":                   "status",
		"category=Printers":             "category",
		"overdue=maybe":                 "overdue",
		"limit=0":                       "limit",
		"limit=1001":                    "limit",
		"cursor=bm90LW91cnM":            "cursor",
		"sort=priority":                 "sort",
		"stauts=sent":                   "stauts",
		"status=sent&status=failed":     "status",
		"q=" + strings.Repeat("q", 201): "q",
	} {
		e := b.get(t, "/api/v1/tickets?"+q).wantStatus(t, http.StatusBadRequest).apiError(t)
		if e.Field != field {
			t.Errorf("GET /api/v1/tickets?%s: field %q (%s), want %q", q, e.Field, e.Message, field)
		}
	}
}

var ticketNextRE = regexp.MustCompile(`href="(/tickets\?[^"]*cursor=[^"]*)" rel="next"`)

// ticketNext returns the "Next page" link of a tickets page, unescaped.
func ticketNext(body string) string {
	m := ticketNextRE.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

var ticketPrevRE = regexp.MustCompile(`href="(/tickets\?[^"]*cursor=[^"]*)" rel="prev"`)

// ticketPrev returns the "Previous page" link of a tickets page, unescaped.
func ticketPrev(body string) string {
	m := ticketPrevRE.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

var ticketRowRE = regexp.MustCompile(`id="ticket-row-([^"]+)"`)

// ticketRowIDs are the ticket ids of a tickets page's rows, in order.
func ticketRowIDs(body string) []string {
	var ids []string
	for _, m := range ticketRowRE.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

var deepLinkHref = regexp.MustCompile(`href="([^"]*nav_to\.do[^"]*)"`)

// TestTicketListPage is the all tickets page over HTTP: the navigation's
// Tickets entry, filters kept in the URL through paging, each row's links
// to its action and to the record in ServiceNow, which land on the record
// itself for every type.
func TestTicketListPage(t *testing.T) {
	b := trackedSetup(t)
	if _, err := b.recs.SeedRecommendations(context.Background(), []*scorebridge.Recommendation{{ID: "mfa", Title: "Require MFA", Category: scorebridge.CategoryIdentity,
		Source: scorebridge.SourceMicrosoft, MaxScore: 10, State: scorebridge.StateToAddress}}); err != nil {
		t.Fatal(err)
	}
	empty := b.get(t, "/tickets").wantStatus(t, http.StatusOK)
	empty.wantContains(t, "No tickets yet", `href="/tickets" aria-current="page"`)
	var made []*scorebridge.Ticket
	for i, typ := range []scorebridge.TicketType{scorebridge.TicketIncident, scorebridge.TicketChange, scorebridge.TicketProblem} {
		made = append(made, b.sent(t, &scorebridge.Ticket{ID: fmt.Sprintf("t%d", i), RecommendationIDs: []string{"mfa"}, Type: typ, Name: fmt.Sprintf("Fix %d", i),
			Actions: []scorebridge.TicketAction{{ID: "mfa", Title: "Require MFA"}}}))
	}
	page := b.get(t, "/tickets").wantStatus(t, http.StatusOK)
	page.wantContains(t, `id="ticket-filters"`, `id="ticket-row-t0"`, `id="ticket-row-t2"`, `href="/actions/mfa"`, "Require MFA", `href="/tickets/t1"`)
	links := deepLinkHref.FindAllStringSubmatch(page.body, -1)
	if len(links) != 3 {
		t.Fatalf("%d links to ServiceNow on the page, want 3", len(links))
	}
	// Signed in on the instance, each link opens its own record's form.
	jar, _ := cookiejar.New(nil)
	sn := &http.Client{Jar: jar}
	for _, m := range links {
		link := html.UnescapeString(m[1])
		u, err := url.Parse(link)
		if err != nil || !strings.HasPrefix(link, b.simURL+"/nav_to.do?uri=") {
			t.Fatalf("deep link %q", link)
		}
		uri := u.Query().Get("uri")
		table, sysID, ok := strings.Cut(uri, ".do?sys_id=")
		if !ok {
			t.Fatalf("deep link %q does not name <table>.do?sys_id=<id>", uri)
		}
		var want *scorebridge.Ticket
		for _, tk := range made {
			if tk.SysID == sysID && scorebridge.StateTable(tk.Type) == table {
				want = tk
			}
		}
		if want == nil {
			t.Fatalf("deep link %q names no ticket's record", uri)
		}
		resp, err := sn.PostForm(b.simURL+"/login.do", url.Values{"user_name": {"admin"}, "user_password": {"admin"}, "sysparm_goto_url": {u.RequestURI()}})
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, want.Number) || resp.Request.URL.Path != "/"+table+".do" {
			t.Errorf("deep link of %s landed on %s (%d), want its %s form with %s", want.ID, resp.Request.URL, resp.StatusCode, table, want.Number)
		}
	}

	// A filter lives in the URL and in the next page's link.
	chg := b.get(t, "/tickets?type=change").wantStatus(t, http.StatusOK)
	chg.wantContains(t, `id="ticket-row-t1"`, `<option value="change" selected>`)
	chg.wantNotContains(t, `id="ticket-row-t0"`, `id="ticket-row-t2"`)
	for i := 3; i < 3+ticketPageLimit; i++ {
		b.sent(t, &scorebridge.Ticket{ID: fmt.Sprintf("t%d", i), RecommendationIDs: []string{"mfa"}, Type: scorebridge.TicketIncident, Name: fmt.Sprintf("More %d", i)})
	}
	first := b.get(t, "/tickets?type=incident&sort=name").wantStatus(t, http.StatusOK)
	next := ticketNext(first.body)
	if next == "" || !strings.Contains(next, "type=incident") || !strings.Contains(next, "sort=name") {
		t.Fatalf("next page link %q does not keep the filter", next)
	}
	second := b.get(t, next).wantStatus(t, http.StatusOK)
	second.wantContains(t, "First page")
	if strings.Count(first.body, `id="ticket-row-`)+strings.Count(second.body, `id="ticket-row-`) != 1+ticketPageLimit {
		t.Fatalf("two pages of incidents show %d + %d rows, want %d in all", strings.Count(first.body, `id="ticket-row-`), strings.Count(second.body, `id="ticket-row-`), 1+ticketPageLimit)
	}
	// Previous page, from the second, shows the first page again with the
	// filter kept, and from there offers no page further back.
	if ticketPrev(first.body) != "" {
		t.Fatal("the first page offers a Previous page")
	}
	prev := ticketPrev(second.body)
	if prev == "" || !strings.Contains(prev, "type=incident") || !strings.Contains(prev, "sort=name") {
		t.Fatalf("previous page link %q does not keep the filter", prev)
	}
	again := b.get(t, prev).wantStatus(t, http.StatusOK)
	if got, want := ticketRowIDs(again.body), ticketRowIDs(first.body); !slices.Equal(got, want) {
		t.Fatalf("Previous page shows %v, want the first page %v", got, want)
	}
	if p := ticketPrev(again.body); p != "" {
		t.Fatalf("the first page read back offers a Previous page %q", p)
	}
	if n := ticketNext(again.body); n == "" || !slices.Equal(ticketRowIDs(b.get(t, n).wantStatus(t, http.StatusOK).body), ticketRowIDs(second.body)) {
		t.Fatalf("Next page from the page read back %q does not show the second page", n)
	}
	b.get(t, "/tickets?type=task").wantStatus(t, http.StatusBadRequest)
	b.get(t, "/tickets?type=incident&state=2").wantStatus(t, http.StatusOK).wantContains(t, "No ticket matches these filters")
}
