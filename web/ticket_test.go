package web

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/connection"
	"github.com/scorebridge/scorebridge/jobs"
	"github.com/scorebridge/scorebridge/secret"
	"github.com/scorebridge/scorebridge/snowsim"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// ticketInstances is an InstanceSource over the simulator with Basic auth as
// one of its users: the domain-interface stand-in for a connection.
type ticketInstances struct {
	url  string
	mu   sync.Mutex
	user string
}

func (s *ticketInstances) ConnectedInstance(context.Context, string) (*scorebridge.ConnectedInstance, error) {
	s.mu.Lock()
	user := s.user
	s.mu.Unlock()
	password := snowsim.DemoPassword
	if user == "admin" {
		password = "admin"
	}
	return &scorebridge.ConnectedInstance{ConnectionID: "test", BaseURL: s.url, HTTPClient: &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.SetBasicAuth(user, password)
		return http.DefaultTransport.RoundTrip(r)
	})}}, nil
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// ticketSetup serves the center with a real ticket service (SQLite, River)
// sending to an in-process simulator.
func ticketSetup(t *testing.T) (*testBundle, *ticketInstances, *snowsim.Instance) {
	t.Helper()
	return ticketSetupWith(t, false)
}

// ticketSetupWith is ticketSetup; noConnection adds the connection service
// with no instance connected, as on a center before its setup.
func ticketSetupWith(t *testing.T, noConnection bool) (*testBundle, *ticketInstances, *snowsim.Instance) {
	t.Helper()
	ctx := context.Background()
	sim, err := snowsim.New(snowsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	simSrv := httptest.NewServer(sim)
	t.Cleanup(simSrv.Close)

	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "scorebridge.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	b := &testBundle{db: db, recs: sqlstore.NewRecommendationService(db), scores: sqlstore.NewScoreService(db), logs: &syncBuffer{}}
	for _, r := range []*scorebridge.Recommendation{
		{ID: "mfa", Title: "Require MFA for admins", Description: "Admins use passwords only.", Remediation: "<p>Turn on MFA.</p>",
			Category: scorebridge.CategoryIdentity, Source: scorebridge.SourceMicrosoft, MaxScore: 10, State: scorebridge.StateToAddress},
		{ID: "disk", Title: "Encrypt disks", Description: "Laptops are not encrypted.",
			Category: scorebridge.CategoryDevices, Source: scorebridge.SourceUser, MaxScore: 5, State: scorebridge.StateToAddress},
	} {
		if _, err := b.recs.SeedRecommendations(ctx, []*scorebridge.Recommendation{r}); err != nil {
			t.Fatal(err)
		}
	}
	instances := &ticketInstances{url: simSrv.URL, user: "admin"}
	logger := slog.New(slog.NewTextHandler(b.logs, nil))
	cfg := jobs.Config{DB: db, Instances: instances, Recommendations: b.recs, Logger: logger,
		CenterURL: "https://center.example", RequestsPerSecond: -1, MaxBackoff: 200 * time.Millisecond}
	var conns scorebridge.ConnectionService
	if noConnection {
		box, _, err := secret.LoadKey(func(string) string { return "" }, filepath.Join(t.TempDir(), "key"))
		if err != nil {
			t.Fatal(err)
		}
		svc, err := connection.New(connection.Config{Store: sqlstore.NewConnectionStore(db, box), RedirectURL: "https://center.example/connections/callback", Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		conns, cfg.Connections = svc, svc
	}
	runner, err := jobs.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := runner.Start(ctx); err != nil {
		t.Fatal(err)
	}
	b.runner = runner
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		runner.Stop(sctx)
	})
	b.server, err = NewServer(Config{Recommendations: b.recs, Scores: b.scores, Tickets: runner.Tickets(), Connections: conns, Logger: logger, User: DefaultUser,
		Idempotency: sqlstore.NewIdempotencyStore(db), Drift: runner.Drift(), DataVersion: db.Version})
	if err != nil {
		t.Fatal(err)
	}
	b.ts = httptest.NewServer(b.server.Handler())
	t.Cleanup(b.ts.Close)
	b.client = b.ts.Client()
	b.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", b.logs)
		}
	})
	return b, instances, sim
}

type apiTicket struct {
	ID                string   `json:"id"`
	RecommendationIDs []string `json:"recommendationIds"`
	Type              string   `json:"type"`
	Status            string   `json:"status"`
	Number            string   `json:"number"`
	SysID             string   `json:"sysId"`
	URL               string   `json:"url"`
	State             string   `json:"state"`
	StateName         string   `json:"stateName"`
	Error             string   `json:"error"`
}

// waitAPITicket reads GET /api/v1/tickets/{id} until the ticket leaves the
// queue, looking again each time River reports that a job attempt ended.
func waitAPITicket(t *testing.T, b *testBundle, id string) apiTicket {
	t.Helper()
	// Subscribed before the first look, so no attempt ends unseen.
	events, stop := b.runner.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed,
		river.EventKindJobCancelled, river.EventKindJobSnoozed)
	defer stop()
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	for {
		var tk apiTicket
		b.get(t, "/api/v1/tickets/"+id).wantStatus(t, http.StatusOK).decode(t, &tk)
		if tk.Status != "queued" {
			return tk
		}
		select {
		case <-events:
		case <-timeout.C:
			t.Fatalf("ticket %s still queued: %+v", id, tk)
		}
	}
}

func TestAPITickets(t *testing.T) {
	t.Parallel()
	b, instances, sim := ticketSetup(t)
	due := time.Now().UTC().AddDate(0, 0, 7).Format("2006-01-02")

	r := b.sendJSON(t, http.MethodPost, "/api/v1/tickets", `{"recommendationId":"mfa","type":"change","name":"Require MFA","description":"This week","priority":2,"dueDate":"`+due+`"}`).wantStatus(t, http.StatusAccepted)
	var created apiTicket
	r.decode(t, &created)
	if created.Status != "queued" || created.Type != "change" || len(created.RecommendationIDs) != 1 || r.Header.Get("Location") != "/api/v1/tickets/"+created.ID {
		t.Fatalf("created %+v (Location %q)", created, r.Header.Get("Location"))
	}
	sent := waitAPITicket(t, b, created.ID)
	if sent.Status != "sent" || !strings.HasPrefix(sent.Number, "CHG") || sent.SysID == "" || !strings.Contains(sent.URL, sent.SysID) || sent.StateName != "New" || sent.State != "-5" {
		t.Fatalf("sent ticket %+v", sent)
	}
	if recs, _ := sim.Query("change_request", "correlation_id="+created.ID); len(recs) != 1 || recs[0]["due_date"] != due+" 23:59:59" {
		t.Errorf("instance records %v", recs)
	}

	// A grouped ticket, then the action's list holds both.
	var grouped apiTicket
	b.sendJSON(t, http.MethodPost, "/api/v1/tickets", `{"recommendationIds":["mfa","disk"],"type":"incident","name":"Two actions","priority":5}`).wantStatus(t, http.StatusAccepted).decode(t, &grouped)
	if len(grouped.RecommendationIDs) != 2 {
		t.Errorf("grouped ticket covers %v", grouped.RecommendationIDs)
	}
	var list struct{ Items []apiTicket }
	b.get(t, "/api/v1/tickets?recommendationId=mfa").wantStatus(t, http.StatusOK).decode(t, &list)
	if len(list.Items) != 2 || list.Items[0].ID != grouped.ID {
		t.Errorf("tickets of mfa: %+v", list.Items)
	}
	b.get(t, "/api/v1/tickets?recommendationId=disk").decode(t, &list)
	if len(list.Items) != 1 {
		t.Errorf("tickets of disk: %+v", list.Items)
	}

	// Refused by the instance: failed with the reason, then retried.
	instances.mu.Lock()
	instances.user = snowsim.UserNoRoles
	instances.mu.Unlock()
	var refused apiTicket
	b.sendJSON(t, http.MethodPost, "/api/v1/tickets", `{"recommendationId":"disk","type":"incident","name":"Disks","priority":3}`).wantStatus(t, http.StatusAccepted).decode(t, &refused)
	failed := waitAPITicket(t, b, refused.ID)
	if failed.Status != "failed" || !strings.Contains(failed.Error, "ServiceNow refused the ticket") {
		t.Fatalf("refused ticket %+v", failed)
	}
	if e := b.sendJSON(t, http.MethodPost, "/api/v1/tickets/"+sent.ID+"/retry", "").wantStatus(t, http.StatusConflict).apiError(t); e.Code != scorebridge.ECONFLICT {
		t.Errorf("retry of a sent ticket: %+v", e)
	}
	instances.mu.Lock()
	instances.user = snowsim.UserITIL
	instances.mu.Unlock()
	var retried apiTicket
	b.sendJSON(t, http.MethodPost, "/api/v1/tickets/"+refused.ID+"/retry", "").wantStatus(t, http.StatusAccepted).decode(t, &retried)
	if retried.Status != "queued" || retried.Error != "" {
		t.Errorf("retried %+v", retried)
	}
	if got := waitAPITicket(t, b, refused.ID); got.Status != "sent" {
		t.Errorf("after retry %+v", got)
	}

	// The audit holds the exact payload.
	var audit struct {
		Items []scorebridge.TicketAuditEntry
	}
	b.get(t, "/api/v1/tickets/"+created.ID+"/audit").wantStatus(t, http.StatusOK).decode(t, &audit)
	if len(audit.Items) < 2 || audit.Items[0].Method != http.MethodPost || !strings.Contains(audit.Items[0].Body, `"correlation_id":"`+created.ID+`"`) {
		t.Errorf("audit %+v", audit.Items)
	}
	b.get(t, "/api/v1/tickets/nope").wantStatus(t, http.StatusNotFound)

	// A problem goes to the problem table and is tracked like the others.
	var problem apiTicket
	b.sendJSON(t, http.MethodPost, "/api/v1/tickets", `{"recommendationId":"mfa","type":"problem","name":"Why MFA keeps regressing","priority":2}`).wantStatus(t, http.StatusAccepted).decode(t, &problem)
	if got := waitAPITicket(t, b, problem.ID); got.Type != "problem" || got.Status != "sent" || !strings.HasPrefix(got.Number, "PRB") || got.StateName != "New" || got.State != "101" {
		t.Fatalf("problem ticket %+v", got)
	}
	if recs, _ := sim.Query("problem", "correlation_id="+problem.ID); len(recs) != 1 || recs[0]["priority"] != "2" {
		t.Errorf("problem records %v", recs)
	}
}

func TestAPITicketsBadInput(t *testing.T) {
	t.Parallel()
	b, _, _ := ticketSetup(t)
	for _, tc := range []struct {
		body   string
		status int
		field  string
	}{
		{`{"recommendationId":"mfa","type":"incident","name":"x","priority":"high"}`, 400, "priority"},
		{`{"recommendationId":"mfa","type":"incident","name":"x","priority":2.5}`, 400, "priority"},
		{`{"recommendationId":"mfa","type":"change","name":"x","priority":5}`, 400, "priority"},
		{`{"recommendationId":"mfa","type":"task","name":"x","priority":2}`, 400, "type"},
		{`{"recommendationId":"mfa","type":"incident","priority":2}`, 400, "name"},
		{`{"recommendationId":"mfa","type":"incident","name":"` + strings.Repeat("n", 161) + `","priority":2}`, 400, "name"},
		{`{"recommendationId":"mfa","type":"incident","name":"x","priority":2,"dueDate":"2020-01-01"}`, 400, "dueDate"},
		{`{"recommendationId":"mfa","type":"incident","name":"x","priority":2,"dueDate":"tomorrow"}`, 400, "dueDate"},
		{`{"recommendationId":"mfa","recommendationIds":["disk"],"type":"incident","name":"x","priority":2}`, 400, "recommendationIds"},
		{`{"recommendationId":"mfa","type":"incident","name":"x","priority":2,"urgency":1}`, 400, "urgency"},
		{`{"type":"incident","name":"x","priority":2}`, 400, "recommendationId"},
		{`{"recommendationId":"nope","type":"incident","name":"x","priority":2}`, 404, ""},
	} {
		e := b.sendJSON(t, http.MethodPost, "/api/v1/tickets", tc.body).wantStatus(t, tc.status).apiError(t)
		if e.Field != tc.field {
			t.Errorf("%s: field %q (%s), want %q", tc.body, e.Field, e.Message, tc.field)
		}
	}
	var list struct{ Items []apiTicket }
	b.get(t, "/api/v1/tickets").wantStatus(t, http.StatusOK).decode(t, &list)
	if len(list.Items) != 0 {
		t.Errorf("refused requests stored %d tickets", len(list.Items))
	}
	b.get(t, "/api/v1/tickets?status=lost").wantStatus(t, http.StatusBadRequest)
	b.get(t, "/api/v1/tickets?limit=0").wantStatus(t, http.StatusBadRequest)
}

func TestTicketPages(t *testing.T) {
	t.Parallel()
	b, _, _ := ticketSetup(t)

	// The form is prefilled from the action and marks what is required.
	b.get(t, "/tickets/new?id=mfa").wantStatus(t, http.StatusOK).wantContains(t, `value="Require MFA for admins"`, "Admins use passwords only.", `name="dueDate"`, "required")

	// A bad due date comes back with the error and the values kept.
	form := url.Values{"id": {"mfa"}, "type": {"incident"}, "name": {"Kept name"}, "priority": {"2"}, "dueDate": {"2001-01-01"}}
	b.postForm(t, "/tickets", form).wantStatus(t, http.StatusBadRequest).wantContains(t, "The due date has passed", `value="Kept name"`)

	form.Set("dueDate", "")
	r := b.postForm(t, "/tickets", form).wantStatus(t, http.StatusSeeOther)
	loc := r.Header.Get("Location")
	if !strings.HasPrefix(loc, "/tickets/") {
		t.Fatalf("redirect to %q", loc)
	}
	id := strings.TrimPrefix(strings.Split(loc, "?")[0], "/tickets/")
	sent := waitAPITicket(t, b, id)
	b.get(t, "/tickets/"+id).wantStatus(t, http.StatusOK).wantContains(t, sent.Number, "View in ServiceNow", "Require MFA for admins")
	b.get(t, "/tickets/"+id+"/audit").wantStatus(t, http.StatusOK).wantContains(t, "POST /api/now/table/incident", "correlation_id", "Read as: impact 1 - High · urgency 2 - Medium", "priority 2 - High", "state New")

	// Several actions: one ticket each, or one grouped ticket.
	each := url.Values{"id": {"mfa", "disk"}, "mode": {"each"}, "type": {"change"}, "name": {"ignored"}, "priority": {"3"}}
	b.postForm(t, "/tickets", each).wantStatus(t, http.StatusSeeOther)
	grouped := url.Values{"id": {"mfa", "disk"}, "mode": {"grouped"}, "type": {"incident"}, "name": {"Both"}, "priority": {"3"}}
	b.postForm(t, "/tickets", grouped).wantStatus(t, http.StatusSeeOther)
	var list struct{ Items []apiTicket }
	b.get(t, "/api/v1/tickets?recommendationId=disk").decode(t, &list)
	if len(list.Items) != 2 || len(list.Items[0].RecommendationIDs) != 2 || len(list.Items[1].RecommendationIDs) != 1 {
		t.Errorf("tickets of disk after bulk and grouped shares: %+v", list.Items)
	}
	b.get(t, "/tickets?recommendationId=disk").wantStatus(t, http.StatusOK).wantContains(t, "Encrypt disks", "Both")

	// The action shows its tickets at once, with the number once sent, and
	// the list offers the share menu per row and a multi-select share.
	b.get(t, "/actions/mfa").wantStatus(t, http.StatusOK).wantContains(t, "ServiceNow tickets", sent.Number, "View in ServiceNow", `href="/tickets/new?id=mfa&amp;type=incident"`, `href="/tickets/new?id=mfa&amp;type=change"`)
	b.get(t, "/actions/disk").wantStatus(t, http.StatusOK).wantContains(t, "Both")
	b.get(t, "/actions").wantStatus(t, http.StatusOK).wantContains(t, `form="share-selected"`, `value="disk"`, `action="/tickets/new"`, `href="/tickets/new?id=mfa&amp;type=incident"`, `aria-label="Share Require MFA for admins"`)
	b.get(t, "/tickets/new").wantStatus(t, http.StatusBadRequest)
}

// TestShareFormErrorsAtOnce: every field's problem comes back at once,
// each next to its field, in the form's words rather than the API's, with
// what was typed kept; the page's script gets the queued tickets as JSON.
func TestShareFormErrorsAtOnce(t *testing.T) {
	t.Parallel()
	b, _, _ := ticketSetup(t)
	form := url.Values{"id": {"mfa"}, "type": {"change"}, "name": {"  "}, "priority": {"5"}, "dueDate": {"2001-01-01"},
		"description": {strings.Repeat("d", scorebridge.MaxTicketDescriptionLength+12)}}
	r := b.postForm(t, "/tickets", form).wantStatus(t, http.StatusBadRequest)
	r.wantContains(t,
		`id="name-error">Give the ticket a name`,
		`id="priority-error">A change request takes a priority from 1 - Critical to 4 - Low`,
		`id="dueDate-error">The due date has passed`,
		`id="description-error">The description is 4012 characters long; ServiceNow keeps at most 4000. Shorten it by 12.`,
		`aria-describedby="name-error"`, "4 things to fix before sharing")
	r.wantNotContains(t, "is required", "must be between", "name is")
	form = url.Values{"id": {"mfa"}, "type": {"fax"}, "name": {"x"}, "priority": {"2"}, "dueDate": {"next week"}}
	r = b.postForm(t, "/tickets", form).wantStatus(t, http.StatusBadRequest)
	r.wantContains(t, `id="type-error">Choose what to create in ServiceNow: incident`, `id="dueDate-error">Write the due date as a date`)

	// The script's submission: 202 with the tickets to follow.
	form = url.Values{"id": {"mfa", "disk"}, "mode": {"each"}, "type": {"incident"}, "name": {"x"}, "priority": {"3"}}
	req, err := http.NewRequest(http.MethodPost, b.ts.URL+"/tickets", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Tickets []apiTicket }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusAccepted || len(out.Tickets) != 2 {
		t.Fatalf("a scripted share answered %d with %+v (%v), want 202 with two tickets", resp.StatusCode, out, err)
	}
	for _, tk := range out.Tickets {
		if tk.ID == "" || tk.Status != "queued" {
			t.Errorf("queued ticket %+v", tk)
		}
	}
}

// TestShareWithoutConnection: before any instance is connected, the share
// form warns and links to the setup, and a share sent anyway is refused at
// once (nothing queued to fail later).
func TestShareWithoutConnection(t *testing.T) {
	t.Parallel()
	b, _, _ := ticketSetupWith(t, true)
	r := b.get(t, "/tickets/new?id=mfa").wantStatus(t, http.StatusOK)
	r.wantContains(t, "No ServiceNow instance is connected", `href="/connections/new"`, `<button type="submit" disabled>Share</button>`)
	form := url.Values{"id": {"mfa"}, "type": {"incident"}, "name": {"MFA"}, "priority": {"2"}}
	r = b.postForm(t, "/tickets", form).wantStatus(t, http.StatusBadRequest)
	r.wantContains(t, "No ServiceNow instance is connected, so the ticket could not be sent", `value="MFA"`)
	b.sendJSON(t, http.MethodPost, "/api/v1/tickets", `{"recommendationId":"mfa","type":"incident","name":"x","priority":2}`).wantStatus(t, http.StatusBadRequest)
	var list struct{ Items []apiTicket }
	b.get(t, "/api/v1/tickets").wantStatus(t, http.StatusOK).decode(t, &list)
	if len(list.Items) != 0 {
		t.Fatalf("%d tickets stored without a connection", len(list.Items))
	}
}
