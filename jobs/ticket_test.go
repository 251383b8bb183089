package jobs_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/internal/dbtest"
	"github.com/scorebridge/scorebridge/jobs"
	"github.com/scorebridge/scorebridge/servicenow"
	"github.com/scorebridge/scorebridge/snowsim"
)

func createOne(t *testing.T, b *bundle, req *scorebridge.TicketRequest) *scorebridge.Ticket {
	t.Helper()
	ts, err := b.tickets.CreateTickets(b.ctx, []*scorebridge.TicketRequest{req})
	if err != nil {
		t.Fatal(err)
	}
	if ts[0].Status != scorebridge.TicketQueued {
		t.Errorf("new ticket is %s, want queued", ts[0].Status)
	}
	return ts[0]
}

func TestTicket_IncidentFields(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	due := dueDate()
	tk := createOne(t, b, &scorebridge.TicketRequest{
		RecommendationIDs: []string{"mfa-admins"}, Type: scorebridge.TicketIncident,
		Name: "  Require MFA for administrative roles ", Description: "Please address this week.", Priority: 2, DueDate: due,
	})
	got := b.waitTicket(t, tk.ID, nil)
	if got.Status != scorebridge.TicketSent || !strings.HasPrefix(got.Number, "INC") || len(got.SysID) != 32 || got.StateName != "New" {
		t.Fatalf("ticket %+v", got)
	}
	if !strings.Contains(got.URL, got.SysID) || !strings.Contains(got.URL, "incident.do") {
		t.Errorf("url %q", got.URL)
	}
	recs := b.records(t, "incident", tk.ID)
	if len(recs) != 1 {
		t.Fatalf("%d incidents with the correlation id, want 1", len(recs))
	}
	rec := recs[0]
	want := map[string]string{
		"number": got.Number, "sys_id": got.SysID,
		"short_description": "Require MFA for administrative roles",
		"impact":            "1", "urgency": "2", "priority": "2",
		"correlation_id": tk.ID, "correlation_display": "scorebridge",
		"due_date": due + " 23:59:59", "state": "1",
	}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("%s = %q, want %q", k, rec[k], v)
		}
	}
	for _, part := range []string{
		"Please address this week.",
		"Improvement action: Require MFA for administrative roles",
		"Recommendation source: User recommendation",
		"Category: Identity",
		"Link: https://center.example/actions/mfa-admins",
		"Shared from scorebridge by user alice.",
	} {
		if !strings.Contains(rec["description"], part) {
			t.Errorf("description lacks %q:\n%s", part, rec["description"])
		}
	}
	// The audit holds the exact payload and the answer.
	audit, err := b.tickets.FindTicketAudit(b.ctx, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(audit) != 2 || audit[0].Kind != "request" || audit[0].Method != http.MethodPost || !strings.Contains(audit[0].Body, `"correlation_id":"`+tk.ID+`"`) ||
		audit[1].Kind != "response" || audit[1].StatusCode != http.StatusCreated || !strings.Contains(audit[1].Body, got.Number) {
		t.Errorf("audit %+v", audit)
	}
}

func TestTicket_ChangeFields(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	for _, p := range []int{1, 4} {
		tk := createOne(t, b, &scorebridge.TicketRequest{
			RecommendationIDs: []string{"mfa-admins"}, Type: scorebridge.TicketChange,
			Name: "MFA for admins", Priority: p,
		})
		got := b.waitTicket(t, tk.ID, nil)
		if got.Status != scorebridge.TicketSent || !strings.HasPrefix(got.Number, "CHG") || got.StateName != "New" || got.State != "-5" {
			t.Fatalf("ticket %+v", got)
		}
		rec := b.records(t, "change_request", tk.ID)[0]
		impact, urgency := servicenow.ImpactUrgency(p)
		for k, v := range map[string]string{"type": "normal", "category": servicenow.ChangeCategory, "priority": string(rune('0' + p)),
			"impact": string(rune('0' + impact)), "urgency": string(rune('0' + urgency)), "due_date": ""} {
			if rec[k] != v {
				t.Errorf("P%d: %s = %q, want %q", p, k, rec[k], v)
			}
		}
		for _, part := range []string{servicenow.ChangeTitle, "Remediation:\nOpen Conditional Access & create a policy.\n- Include admin roles\n- Grant: require MFA", "Link: https://center.example/actions/mfa-admins"} {
			if !strings.Contains(rec["description"], part) {
				t.Errorf("description lacks %q:\n%s", part, rec["description"])
			}
		}
	}
}

// A problem is written to the problem table with the fields its data
// dictionary has (task's short_description, description, impact, urgency,
// due_date, correlation_id), the remediation as the fix to find, and gets
// the priority lookup an incident gets.
func TestTicket_ProblemFields(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	due := dueDate()
	tk := createOne(t, b, &scorebridge.TicketRequest{
		RecommendationIDs: []string{"mfa-admins"}, Type: scorebridge.TicketProblem,
		Name: "Admins keep signing in without MFA", Priority: 3, DueDate: due,
	})
	got := b.waitTicket(t, tk.ID, nil)
	if got.Status != scorebridge.TicketSent || !strings.HasPrefix(got.Number, "PRB") || got.State != "101" || got.StateName != "New" ||
		!strings.Contains(got.URL, "problem.do") {
		t.Fatalf("ticket %+v", got)
	}
	recs := b.records(t, "problem", tk.ID)
	if len(recs) != 1 {
		t.Fatalf("%d problems with the correlation id, want 1", len(recs))
	}
	rec := recs[0]
	for k, v := range map[string]string{"short_description": "Admins keep signing in without MFA", "impact": "2", "urgency": "2", "priority": "3",
		"problem_state": "101", "correlation_display": "scorebridge", "due_date": due + " 23:59:59"} {
		if rec[k] != v {
			t.Errorf("%s = %q, want %q", k, rec[k], v)
		}
	}
	for _, part := range []string{"Improvement action: Require MFA for administrative roles", "Remediation:\nOpen Conditional Access", "Link: https://center.example/actions/mfa-admins"} {
		if !strings.Contains(rec["description"], part) {
			t.Errorf("description lacks %q:\n%s", part, rec["description"])
		}
	}
	if len(b.records(t, "incident", tk.ID)) != 0 {
		t.Error("a problem also made an incident")
	}
}

// Each priority lands as itself on an incident through impact and urgency.
func TestTicket_IncidentPriorities(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	var reqs []*scorebridge.TicketRequest
	for p := 1; p <= 5; p++ {
		reqs = append(reqs, &scorebridge.TicketRequest{RecommendationIDs: []string{"bitlocker"}, Type: scorebridge.TicketIncident, Name: "BitLocker", Priority: p})
	}
	ts, err := b.tickets.CreateTickets(b.ctx, reqs)
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range ts {
		b.waitTicket(t, tk.ID, nil)
	}
	for i, tk := range ts {
		if got := b.records(t, "incident", tk.ID)[0]["priority"]; got != string(rune('1'+i)) {
			t.Errorf("asked for P%d, the instance computed P%s", i+1, got)
		}
	}
}

func TestTicket_GroupedAndBulk(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	grouped := createOne(t, b, &scorebridge.TicketRequest{
		RecommendationIDs: []string{"mfa-admins", "bitlocker"}, Type: scorebridge.TicketChange, Name: "Two hardening actions", Priority: 3,
	})
	bulk, err := b.tickets.CreateTickets(b.ctx, []*scorebridge.TicketRequest{
		{RecommendationIDs: []string{"mfa-admins"}, Type: scorebridge.TicketIncident, Name: "MFA", Priority: 3},
		{RecommendationIDs: []string{"bitlocker"}, Type: scorebridge.TicketIncident, Name: "BitLocker", Priority: 3},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Everything is sent before the instance is read: no write runs while
	// the test queries it.
	b.waitTicket(t, grouped.ID, nil)
	for _, tk := range bulk {
		b.waitTicket(t, tk.ID, nil)
	}
	rec := b.records(t, "change_request", grouped.ID)
	if len(rec) != 1 || !strings.Contains(rec[0]["description"], "Require MFA") || !strings.Contains(rec[0]["description"], "Encrypt device disks") ||
		!strings.Contains(rec[0]["description"], "Category: Devices") {
		t.Errorf("grouped ticket: %v", rec)
	}
	for i, tk := range bulk {
		got, _ := b.tickets.FindTicketByID(b.ctx, tk.ID)
		if got.Status != scorebridge.TicketSent || len(b.records(t, "incident", tk.ID)) != 1 {
			t.Errorf("bulk ticket %d: %+v", i, got)
		}
	}
	// Each action lists the tickets that cover it, the grouped one included.
	list, err := b.tickets.FindTickets(b.ctx, scorebridge.TicketFilter{RecommendationID: "bitlocker"})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Errorf("tickets of bitlocker: %d, want 2", len(list))
	}
}

func TestTicket_InvalidRequestsStoreNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ok := scorebridge.TicketRequest{RecommendationIDs: []string{"mfa-admins"}, Type: scorebridge.TicketIncident, Name: "MFA", Priority: 3}
	bad := ok
	bad.Priority = 9
	_, err := b.tickets.CreateTickets(b.ctx, []*scorebridge.TicketRequest{&ok, &bad})
	if scorebridge.ErrorCode(err) != scorebridge.EINVALID || scorebridge.ErrorField(err) != "priority" || !strings.HasPrefix(scorebridge.ErrorMessage(err), "ticket 2: ") {
		t.Errorf("bulk with a bad priority: %v", err)
	}
	missing := ok
	missing.RecommendationIDs = []string{"no-such-action"}
	if _, err := b.tickets.CreateTickets(b.ctx, []*scorebridge.TicketRequest{&ok, &missing}); scorebridge.ErrorCode(err) != scorebridge.ENOTFOUND {
		t.Errorf("unknown action: %v, want ENOTFOUND", err)
	}
	if _, err := b.tickets.CreateTickets(b.ctx, nil); scorebridge.ErrorCode(err) != scorebridge.EINVALID {
		t.Errorf("empty share: %v", err)
	}
	if list, _ := b.tickets.FindTickets(b.ctx, scorebridge.TicketFilter{}); len(list) != 0 {
		t.Errorf("%d tickets stored by refused shares", len(list))
	}
	if _, err := b.tickets.FindTickets(b.ctx, scorebridge.TicketFilter{Status: "lost"}); scorebridge.ErrorCode(err) != scorebridge.EINVALID {
		t.Errorf("bad status filter: %v", err)
	}
}

// The instance refusing the record (an ACL) fails the ticket at once with
// the reason in words; a retry after the fix makes it.
func TestTicket_InstanceRefusesThenRetry(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	b.instances.set(snowsim.UserNoRoles, snowsim.DemoPassword, nil)
	tk := createOne(t, b, &scorebridge.TicketRequest{RecommendationIDs: []string{"mfa-admins"}, Type: scorebridge.TicketIncident, Name: "MFA", Priority: 2})
	got := b.waitTicket(t, tk.ID, nil)
	if got.Status != scorebridge.TicketFailed || !strings.Contains(got.Error, "may not create this record") || !strings.Contains(got.Error, "itil role") {
		t.Fatalf("refused ticket: %+v", got)
	}
	audit, _ := b.tickets.FindTicketAudit(b.ctx, tk.ID)
	posts := 0
	for _, e := range audit {
		if e.Kind == "request" && e.Method == http.MethodPost {
			posts++
		}
	}
	if posts != 1 {
		t.Errorf("%d creates sent for a refused ticket, want 1 (no retries)", posts)
	}
	if _, err := b.tickets.RetryTicket(b.ctx, "nope"); scorebridge.ErrorCode(err) != scorebridge.ENOTFOUND {
		t.Errorf("retry of a missing ticket: %v", err)
	}

	b.instances.set(snowsim.UserITIL, snowsim.DemoPassword, nil)
	again, err := b.tickets.RetryTicket(b.ctx, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if again.Status != scorebridge.TicketQueued || again.Error != "" {
		t.Errorf("retried ticket %+v", again)
	}
	if got := b.waitTicket(t, tk.ID, nil); got.Status != scorebridge.TicketSent {
		t.Fatalf("after retry: %+v", got)
	}
	if n := len(b.records(t, "incident", tk.ID)); n != 1 {
		t.Errorf("%d incidents, want 1", n)
	}
	if _, err := b.tickets.RetryTicket(b.ctx, tk.ID); scorebridge.ErrorCode(err) != scorebridge.ECONFLICT {
		t.Errorf("retry of a sent ticket: %v, want ECONFLICT", err)
	}
}

// A create whose answer is lost (committed, connection dropped) is found by
// its correlation id on the next attempt and adopted: one record only.
func TestTicket_LostAnswerIsAdopted(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	if err := b.sim.SetFaults(snowsim.Faults{DropRate: 1}); err != nil {
		t.Fatal(err)
	}
	tk := createOne(t, b, &scorebridge.TicketRequest{RecommendationIDs: []string{"mfa-admins"}, Type: scorebridge.TicketIncident, Name: "MFA", Priority: 2})
	// Wait for the dropped answer to be audited, then let the instance answer.
	b.waitTicket(t, tk.ID, func(*scorebridge.Ticket) bool {
		audit, _ := b.tickets.FindTicketAudit(b.ctx, tk.ID)
		return len(audit) >= 2 && audit[1].Kind == "error"
	})
	if n := len(b.records(t, "incident", tk.ID)); n != 1 {
		t.Fatalf("the dropped create made %d incidents, want 1", n)
	}
	if err := b.sim.SetFaults(snowsim.Faults{}); err != nil {
		t.Fatal(err)
	}
	got := b.waitTicket(t, tk.ID, nil)
	recs := b.records(t, "incident", tk.ID)
	if got.Status != scorebridge.TicketSent || len(recs) != 1 || recs[0]["number"] != got.Number {
		t.Fatalf("ticket %+v, records %d", got, len(recs))
	}
	audit, _ := b.tickets.FindTicketAudit(b.ctx, tk.ID)
	var methods []string
	for _, e := range audit {
		if e.Kind == "request" {
			methods = append(methods, e.Method)
		}
	}
	if strings.Join(methods, ",") != "POST,GET" {
		t.Errorf("requests %v, want one create then one lookup", methods)
	}
}

// 5xx answers are retried with backoff until the record is made; a 503's
// Retry-After is honoured.
func TestTicket_ServerErrorsRetried(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status     int
		retryAfter string
	}{{http.StatusInternalServerError, ""}, {http.StatusBadGateway, ""}, {http.StatusServiceUnavailable, "1"}} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{})
			b.faults.failCreates(2, tc.status, tc.retryAfter)
			tk := createOne(t, b, &scorebridge.TicketRequest{RecommendationIDs: []string{"bitlocker"}, Type: scorebridge.TicketChange, Name: "BitLocker", Priority: 2})
			got := b.waitTicket(t, tk.ID, nil)
			if got.Status != scorebridge.TicketSent || len(b.records(t, "change_request", tk.ID)) != 1 {
				t.Fatalf("ticket %+v", got)
			}
			audit, _ := b.tickets.FindTicketAudit(b.ctx, tk.ID)
			var seen []string
			for _, e := range audit {
				if e.Kind != "request" {
					seen = append(seen, fmt.Sprint(e.StatusCode))
				}
			}
			// Two refused creates, then (since a create was sent) a lookup
			// finding nothing, then the create.
			want := fmt.Sprintf("%d,200,%d,200,201", tc.status, tc.status)
			if strings.Join(seen, ",") != want {
				t.Errorf("answers %v, want %s", seen, want)
			}
		})
	}
}

// A 429 holds the job (snoozed, not failed) for Retry-After.
func TestTicket_RateLimitHonoured(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	if err := b.sim.SetRateLimitPerHour(1); err != nil {
		t.Fatal(err)
	}
	// The first ticket spends the hour's one request.
	tk := createOne(t, b, &scorebridge.TicketRequest{RecommendationIDs: []string{"bitlocker"}, Type: scorebridge.TicketIncident, Name: "first", Priority: 3})
	b.waitTicket(t, tk.ID, nil)
	tk2 := createOne(t, b, &scorebridge.TicketRequest{RecommendationIDs: []string{"bitlocker"}, Type: scorebridge.TicketIncident, Name: "second", Priority: 3})
	b.waitTicket(t, tk2.ID, func(*scorebridge.Ticket) bool {
		audit, _ := b.tickets.FindTicketAudit(b.ctx, tk2.ID)
		return len(audit) >= 2 && audit[1].StatusCode == http.StatusTooManyRequests
	})
	if got, _ := b.tickets.FindTicketByID(b.ctx, tk2.ID); got.Status != scorebridge.TicketQueued {
		t.Errorf("rate-limited ticket is %s, want queued", got.Status)
	}
	b.sim.SetRateLimitPerHour(0)
	// Retry-After is up to an hour here; the job honours it, so the test
	// checks only that it stays queued and the instance saw no second try.
	if got, _ := b.tickets.FindTicketByID(b.ctx, tk2.ID); got.Status != scorebridge.TicketQueued {
		t.Errorf("ticket %+v", got)
	}
	if n := len(b.records(t, "incident", tk2.ID)); n != 0 {
		t.Errorf("%d records for the refused ticket", n)
	}
}

// Under a per-second limit with no client pacing, refused requests wait for
// Retry-After and every ticket is still made once.
func TestTicket_PerSecondLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	if err := b.sim.SetRateLimitPerSecond(1); err != nil {
		t.Fatal(err)
	}
	var reqs []*scorebridge.TicketRequest
	for range 3 {
		reqs = append(reqs, &scorebridge.TicketRequest{RecommendationIDs: []string{"bitlocker"}, Type: scorebridge.TicketIncident, Name: "BitLocker", Priority: 3})
	}
	ts, err := b.tickets.CreateTickets(b.ctx, reqs)
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range ts {
		b.waitTicket(t, tk.ID, nil)
	}
	for _, tk := range ts {
		if got, _ := b.tickets.FindTicketByID(b.ctx, tk.ID); got.Status != scorebridge.TicketSent || len(b.records(t, "incident", tk.ID)) != 1 {
			t.Errorf("ticket %+v", got)
		}
	}
}

// EUNAUTHORIZED from the connection keeps the ticket queued with the reason
// shown; once authorized again it is sent.
func TestTicket_WaitsForAuthorization(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	b.instances.set("admin", "admin", scorebridge.Errorf(scorebridge.EUNAUTHORIZED, "The connection needs authorizing again."))
	tk := createOne(t, b, &scorebridge.TicketRequest{RecommendationIDs: []string{"mfa-admins"}, Type: scorebridge.TicketIncident, Name: "MFA", Priority: 1})
	waiting := b.waitTicket(t, tk.ID, func(tk *scorebridge.Ticket) bool { return tk.Error != "" || tk.Status != scorebridge.TicketQueued })
	if waiting.Status != scorebridge.TicketQueued || !strings.Contains(waiting.Error, "authorize") {
		t.Fatalf("ticket %+v, want queued and waiting for authorization", waiting)
	}
	b.instances.set("admin", "admin", nil)
	got := b.waitTicket(t, tk.ID, nil)
	if got.Status != scorebridge.TicketSent || got.Error != "" {
		t.Fatalf("ticket %+v", got)
	}
}

// The whole flow on PostgreSQL: River's pgx driver and the pgx transaction.
func TestTicket_Postgres(t *testing.T) {
	dsn := dbtest.PostgresURL()
	if dsn == "" {
		t.Skip("SCOREBRIDGE_TEST_POSTGRES is not set")
	}
	t.Parallel()
	b := setup(t, setupOpts{dsn: dbtest.PostgresSchema(t, dsn, "jobs")})
	tk := createOne(t, b, &scorebridge.TicketRequest{RecommendationIDs: []string{"mfa-admins", "bitlocker"}, Type: scorebridge.TicketChange, Name: "Grouped", Priority: 2})
	if got := b.waitTicket(t, tk.ID, nil); got.Status != scorebridge.TicketSent || len(b.records(t, "change_request", tk.ID)) != 1 {
		t.Fatalf("ticket %+v", got)
	}
}

// knownConnections is a ConnectionFinder over a fixed set of ids: the
// domain-interface stand-in for the connection service.
type knownConnections map[string]bool

func (k knownConnections) FindConnectionByID(_ context.Context, id string) (*scorebridge.Connection, error) {
	if !k[id] {
		return nil, scorebridge.Errorf(scorebridge.ENOTFOUND, "Connection not found.")
	}
	return &scorebridge.Connection{ID: id}, nil
}

// A ticket request naming a connection that does not exist is refused at
// once, naming the field, and nothing is queued.
func TestTicket_UnknownConnectionRefusedAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{config: func(c *jobs.Config) { c.Connections = knownConnections{"c-1": true} }})
	_, err := b.tickets.CreateTickets(b.ctx, []*scorebridge.TicketRequest{{RecommendationIDs: []string{"mfa-admins"}, Type: scorebridge.TicketIncident,
		Name: "MFA", Priority: 2, ConnectionID: "no-such-connection"}})
	if scorebridge.ErrorCode(err) != scorebridge.EINVALID || scorebridge.ErrorField(err) != "connectionId" {
		t.Fatalf("unknown connection: %v, want EINVALID on connectionId", err)
	}
	if list, err := b.tickets.FindTickets(b.ctx, scorebridge.TicketFilter{}); err != nil || len(list) != 0 {
		t.Fatalf("%d tickets stored, %v", len(list), err)
	}
	if _, err := b.tickets.CreateTickets(b.ctx, []*scorebridge.TicketRequest{{RecommendationIDs: []string{"mfa-admins"}, Type: scorebridge.TicketIncident,
		Name: "MFA", Priority: 2, ConnectionID: "c-1"}}); err != nil {
		t.Fatalf("known connection: %v", err)
	}
}

// With no ServiceNow instance connected at all, a share for the default
// connection is refused at once with a message saying so, instead of a
// ticket that waits in the queue for an instance that is not there.
func TestTicket_NoConnectionRefusedAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{config: func(c *jobs.Config) { c.Connections = knownConnections{} }})
	_, err := b.tickets.CreateTickets(b.ctx, []*scorebridge.TicketRequest{{RecommendationIDs: []string{"mfa-admins"}, Type: scorebridge.TicketIncident,
		Name: "MFA", Priority: 2}})
	if scorebridge.ErrorCode(err) != scorebridge.EINVALID || scorebridge.ErrorField(err) != "connectionId" || !strings.Contains(scorebridge.ErrorMessage(err), "No ServiceNow instance is connected") {
		t.Fatalf("no connection: %v, want EINVALID on connectionId saying none is connected", err)
	}
	if list, err := b.tickets.FindTickets(b.ctx, scorebridge.TicketFilter{}); err != nil || len(list) != 0 {
		t.Fatalf("%d tickets stored, %v", len(list), err)
	}
}
