package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/jobs"
	"github.com/scorebridge/scorebridge/secret"
	"github.com/scorebridge/scorebridge/servicenow"
	"github.com/scorebridge/scorebridge/sqlstore"
	"github.com/scorebridge/scorebridge/tracking"
)

// trackedBundle is a center with a connection to the simulator, the
// tracking service over it and a ticket service (not sending: its tickets
// are stored as sent by the test).
type trackedBundle struct {
	*connectionBundle
	conn     *scorebridge.Connection
	tracking *tracking.Service
	tickets  *sqlstore.TicketStore
}

func trackedSetup(t *testing.T) *trackedBundle {
	t.Helper()
	b := &trackedBundle{connectionBundle: connectionSetup(t)}
	ctx := context.Background()
	var err error
	if b.conn, err = b.svc.CreateConnection(ctx, scorebridge.ConnectionCreate{Instance: b.simURL, ClientID: "cid", ClientSecret: "csecret"}); err != nil {
		t.Fatal(err)
	}
	box, err := secret.NewBox([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(b.logs, nil))
	if b.tracking, err = tracking.New(tracking.Config{Store: sqlstore.NewTrackingStore(b.db, box), Instances: simBasic{b.simURL},
		Recommendations: b.recs, Logger: logger}); err != nil {
		t.Fatal(err)
	}
	runner, err := jobs.New(ctx, jobs.Config{DB: b.db, Instances: simBasic{b.simURL}, Recommendations: b.recs, Logger: logger,
		CenterURL: "https://center.example", RequestsPerSecond: -1, MaxBackoff: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer(Config{Recommendations: b.recs, Scores: b.scores, Connections: b.svc, Tracking: b.tracking, Tickets: runner.Tickets(),
		Logger: logger, User: DefaultUser, Idempotency: sqlstore.NewIdempotencyStore(b.db), Drift: runner.Drift(), DataVersion: b.db.Version})
	if err != nil {
		t.Fatal(err)
	}
	b.ts = httptest.NewServer(srv.Handler())
	t.Cleanup(b.ts.Close)
	b.client = b.ts.Client()
	b.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	b.tickets = sqlstore.NewTicketStore(b.db)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", b.logs)
		}
	})
	return b
}

// sent stores a ticket as sent, with its record made on the simulator.
func (b *trackedBundle) sent(t *testing.T, tk *scorebridge.Ticket) *scorebridge.Ticket {
	t.Helper()
	ctx := context.Background()
	if tk.Priority == 0 {
		tk.Priority = 3
	}
	if tk.RequestedBy == "" {
		tk.RequestedBy = "admin"
	}
	// Each ticket a second after the last, so newest first is an order.
	b.advance(time.Second)
	if err := b.tickets.InsertTickets(ctx, []*scorebridge.Ticket{tk}, func(context.Context, sqlstore.TicketTx, []string) error { return nil }); err != nil {
		t.Fatal(err)
	}
	table := servicenow.TicketTable(tk.Type)
	rec, err := b.sim.Insert(table, map[string]string{"short_description": tk.Name, "correlation_id": tk.ID, "correlation_display": "scorebridge"})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.tickets.MarkTicketSent(ctx, tk.ID, sqlstore.TicketResult{Number: rec["number"], SysID: rec["sys_id"], State: rec["state"],
		URL: servicenow.RecordURL(b.simURL, table, rec["sys_id"])}, nil); err != nil {
		t.Fatal(err)
	}
	tk.SysID, tk.Number = rec["sys_id"], rec["number"]
	return tk
}

type stateNamesBody struct {
	ConnectionID string                       `json:"connectionId"`
	RefreshedAt  *time.Time                   `json:"refreshedAt"`
	Items        []scorebridge.StateNameEntry `json:"items"`
}

func (s stateNamesBody) entry(table, value string) scorebridge.StateNameEntry {
	for _, e := range s.Items {
		if e.Table == table && e.Value == value {
			return e
		}
	}
	return scorebridge.StateNameEntry{}
}

// TestStateNamesAPIAndPage reads a customised instance's labels over the
// API, renames states over PUT and the configuration page, and checks the
// summary API names states accordingly and bad input is refused with the
// field named and nothing saved.
func TestStateNamesAPIAndPage(t *testing.T) {
	b := trackedSetup(t)
	if _, err := b.sim.Insert("sys_choice", map[string]string{"name": "incident", "element": "state", "value": "9", "label": "Awaiting vendor", "sequence": "350"}); err != nil {
		t.Fatal(err)
	}
	tk := b.sent(t, &scorebridge.Ticket{ID: "t1", RecommendationIDs: []string{"x"}, Type: scorebridge.TicketIncident, Name: "Fix"})
	if _, err := b.sim.Update("incident", tk.SysID, map[string]string{"state": "9"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.tracking.SyncConnection(context.Background(), b.conn.ID); err != nil {
		t.Fatal(err)
	}
	path := "/api/v1/connections/" + b.conn.ID + "/state-names"

	var before stateNamesBody
	b.get(t, path).wantStatus(t, http.StatusOK).decode(t, &before)
	if before.RefreshedAt != nil || before.entry("incident", "9").Name != "" || before.entry("incident", "2").Name != "In Progress" {
		t.Fatalf("before a refresh: %+v", before)
	}
	if sum := b.get(t, "/api/v1/tickets/summary").body; !strings.Contains(sum, `"stateName":"Unknown state (9)"`) {
		t.Fatalf("before a refresh the instance's own state 9 is not shown as unknown: %s", sum)
	}
	var after stateNamesBody
	b.sendJSON(t, http.MethodPost, path+"/refresh", "").wantStatus(t, http.StatusOK).decode(t, &after)
	if after.RefreshedAt == nil || after.entry("incident", "9").InstanceLabel != "Awaiting vendor" || after.entry("change_request", "-4").InstanceLabel != "Assess" {
		t.Fatalf("after a refresh: %+v", after)
	}
	if sum := b.get(t, "/api/v1/tickets/summary").body; !strings.Contains(sum, `"stateName":"Awaiting vendor"`) {
		t.Fatalf("the card does not show the instance's label: %s", sum)
	}

	var put stateNamesBody
	b.sendJSON(t, http.MethodPut, path, `{"renames": [{"table": "incident", "value": "9", "name": "With the vendor"}, {"table": "change_request", "value": -5, "name": "Draft"}]}`).
		wantStatus(t, http.StatusOK).decode(t, &put)
	if e := put.entry("incident", "9"); e.Rename != "With the vendor" || e.Name != "With the vendor" || e.InstanceLabel != "Awaiting vendor" {
		t.Fatalf("after PUT: %+v", e)
	}
	if put.entry("change_request", "-5").Name != "Draft" {
		t.Fatalf("a numeric value was not taken: %+v", put.entry("change_request", "-5"))
	}
	if sum := b.get(t, "/api/v1/tickets/summary").body; !strings.Contains(sum, `"stateName":"With the vendor"`) {
		t.Fatalf("the card does not show the rename: %s", sum)
	}

	for _, c := range []struct{ body, field string }{
		{`{"renames": [{"table": "sc_task", "value": "1", "name": "x"}]}`, "renames[0].table"},
		{`{"renames": [{"table": "incident", "value": "new", "name": "x"}]}`, "renames[0].value"},
		{`{"renames": [{"table": "incident", "value": 2.5, "name": "x"}]}`, "renames[0].value"},
		{`{"renames": [{"table": "incident", "value": "2", "name": ""}]}`, "renames[0].name"},
		{`{"renames": [{"table": "incident", "value": "2"}]}`, "renames[0].name"},
		{`{"renames": [{"table": "incident", "value": "2", "name": "` + strings.Repeat("n", 81) + `"}]}`, "renames[0].name"},
		{`{"renames": [{"table": "incident", "value": "2", "name": "a"}, {"table": "incident", "value": "2", "name": "b"}]}`, "renames[1]"},
		{`{"renames": [{"table": "incident", "value": "2", "name": "a", "color": "red"}]}`, "renames[0]"},
		{`{"renames": {"table": "incident"}}`, "renames"},
		{`{"names": []}`, "names"},
		{`{}`, "renames"},
	} {
		e := b.sendJSON(t, http.MethodPut, path, c.body).wantStatus(t, http.StatusBadRequest).apiError(t)
		if e.Field != c.field {
			t.Errorf("PUT %s: field %q (%s), want %q", c.body, e.Field, e.Message, c.field)
		}
	}
	var still stateNamesBody
	b.get(t, path).decode(t, &still)
	if still.entry("incident", "9").Rename != "With the vendor" {
		t.Fatalf("a refused PUT changed the renames: %+v", still.entry("incident", "9"))
	}
	b.do(t, http.MethodPut, path, "text/plain", `{"renames": []}`).wantStatus(t, http.StatusUnsupportedMediaType)
	b.get(t, "/api/v1/connections/nope/state-names").wantStatus(t, http.StatusNotFound)

	// The configuration page, reached from the connection page.
	b.get(t, "/connections/"+b.conn.ID).wantStatus(t, http.StatusOK).wantContains(t, `id="customize-state-names"`, `href="/connections/`+b.conn.ID+`/state-names"`)
	page := b.get(t, "/connections/"+b.conn.ID+"/state-names").wantStatus(t, http.StatusOK)
	page.wantContains(t, "Customize ticket state names", `id="state-name-incident-9"`, `value="With the vendor"`, "Awaiting vendor", `id="state-names-refresh"`, `id="state-names-save"`)
	bad := b.postForm(t, "/connections/"+b.conn.ID+"/state-names", url.Values{"name.incident.2": {strings.Repeat("x", 81)}, "name.incident.9": {"Vendor"}})
	bad.wantStatus(t, http.StatusBadRequest).wantContains(t, "at most 80 characters", `aria-invalid="true"`)
	b.get(t, path).decode(t, &still)
	if still.entry("incident", "9").Rename != "With the vendor" {
		t.Fatalf("a refused form changed the renames: %+v", still.entry("incident", "9"))
	}
	b.postForm(t, "/connections/"+b.conn.ID+"/state-names", url.Values{"name.incident.2": {"Working"}, "name.incident.9": {""}}).wantStatus(t, http.StatusSeeOther)
	b.get(t, path).decode(t, &still)
	if still.entry("incident", "2").Name != "Working" || still.entry("incident", "9").Name != "Awaiting vendor" || still.entry("change_request", "-5").Rename != "" {
		t.Fatalf("after the form: 2 %+v, 9 %+v, -5 %+v", still.entry("incident", "2"), still.entry("incident", "9"), still.entry("change_request", "-5"))
	}
	if got, _ := b.tickets.FindTicketByID(context.Background(), "t1"); got.StateName != "Awaiting vendor" {
		t.Fatalf("with its rename cleared the ticket shows %q, want the instance's label", got.StateName)
	}
	b.postForm(t, "/connections/"+b.conn.ID+"/state-names/refresh", nil).wantStatus(t, http.StatusSeeOther)
}
