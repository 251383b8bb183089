package jobs_test

import (
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/servicenow"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// sendEvents returns the ticket.send events the audit log holds for a
// ticket.
func sendEvents(t *testing.T, b *bundle, ticketID string) []*scorebridge.AuditEvent {
	t.Helper()
	events, _, err := sqlstore.NewAuditStore(b.db).FindAuditEvents(b.ctx, scorebridge.AuditFilter{Action: scorebridge.AuditTicketSend})
	if err != nil {
		t.Fatal(err)
	}
	var out []*scorebridge.AuditEvent
	for _, e := range events {
		if e.Target == ticketID {
			out = append(out, e)
		}
	}
	return out
}

// TestTicket_SendIsAudited: every ticket sent lands in the center's audit
// log with who asked for it, which action and the exact payload.
func TestTicket_SendIsAudited(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	tk := createOne(t, b, &scorebridge.TicketRequest{
		RecommendationIDs: []string{"mfa-admins"}, Type: scorebridge.TicketIncident, Name: "Require MFA", Priority: 3,
	})
	got := b.waitTicket(t, tk.ID, nil)
	if got.Status != scorebridge.TicketSent {
		t.Fatalf("ticket %+v", got)
	}
	sent := sendEvents(t, b, tk.ID)
	if len(sent) != 1 {
		t.Fatalf("%d ticket.send events, want 1: %+v", len(sent), sent)
	}
	d := sent[0].Detail
	payload, _ := d["payload"].(map[string]any)
	if d["requested_by"] != "alice" || d["number"] != got.Number || payload["short_description"] != "Require MFA" ||
		payload["correlation_id"] != tk.ID || d["adopted"] != false {
		t.Errorf("audit detail %+v", d)
	}
}

// killedMidAdoption leaves what a SIGKILL during an adoption leaves: the
// record made on the instance by an earlier attempt whose answer was lost,
// the create and the lookup audited as sent, the ticket queued and its job
// running.
func killedMidAdoption(t *testing.T, b *bundle) *scorebridge.Ticket {
	t.Helper()
	tk := createOne(t, b, &scorebridge.TicketRequest{RecommendationIDs: []string{"mfa-admins"}, Type: scorebridge.TicketIncident, Name: "MFA", Priority: 2})
	inst, err := b.instances.ConnectedInstance(b.ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := servicenow.NewClient(inst.BaseURL, inst.HTTPClient).Create(b.ctx, "incident",
		map[string]string{"short_description": "MFA", "correlation_id": tk.ID}); err != nil {
		t.Fatal(err)
	}
	store := sqlstore.NewTicketStore(b.db)
	for _, e := range []*scorebridge.TicketAuditEntry{
		{TicketID: tk.ID, Kind: "request", Method: "POST", Path: "/api/now/table/incident"},
		{TicketID: tk.ID, Kind: "error", Method: "POST", Path: "/api/now/table/incident", Body: "connection reset"},
		{TicketID: tk.ID, Kind: "request", Method: "GET", Path: "/api/now/table/incident?sysparm_query=correlation_id%3D" + tk.ID},
	} {
		if err := store.AddTicketAudit(b.ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	// Attempted before the rescue horizon: the process is long gone.
	attempted := time.Now().UTC().Add(-b.runner.RescueAfter() - time.Second).Format("2006-01-02 15:04:05.000")
	if _, err := b.db.SQL.Exec(`UPDATE river_job SET state = 'running', attempt = 1, attempted_at = ? WHERE kind = 'create_ticket'`, attempted); err != nil {
		t.Fatal(err)
	}
	return tk
}

// A center killed while adopting a ticket whose answer was lost adopts it
// on the next start, and the audit log says it was sent: exactly one
// ticket.send, marked adopted, for one record on the instance.
func TestTicket_KilledDuringAdoptionIsAudited(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noStart: true})
	tk := killedMidAdoption(t, b)
	if err := b.runner.Start(b.ctx); err != nil {
		t.Fatal(err)
	}
	got := b.waitTicket(t, tk.ID, nil)
	recs := b.records(t, "incident", tk.ID)
	if got.Status != scorebridge.TicketSent || len(recs) != 1 || recs[0]["number"] != got.Number {
		t.Fatalf("ticket %+v, %d records", got, len(recs))
	}
	sent := sendEvents(t, b, tk.ID)
	if len(sent) != 1 {
		t.Fatalf("%d ticket.send events for an adopted ticket, want 1", len(sent))
	}
	if d := sent[0].Detail; d["adopted"] != true || d["number"] != got.Number {
		t.Errorf("audit detail %+v", d)
	}
}

// An audit that cannot be written fails the change: the ticket is not
// marked sent without its ticket.send event, and once the audit log takes
// writes again the next attempt adopts the record and audits it.
func TestTicket_AuditFailureFailsTheSend(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noStart: true})
	if _, err := b.db.SQL.Exec(`CREATE TRIGGER audit_refused BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit log refused'); END`); err != nil {
		t.Fatal(err)
	}
	tk := createOne(t, b, &scorebridge.TicketRequest{RecommendationIDs: []string{"mfa-admins"}, Type: scorebridge.TicketIncident, Name: "MFA", Priority: 2})
	if err := b.runner.Start(b.ctx); err != nil {
		t.Fatal(err)
	}
	// The create reaches the instance and its answer is audited; the
	// change of status with its event is refused.
	b.waitTicket(t, tk.ID, func(*scorebridge.Ticket) bool { return len(b.records(t, "incident", tk.ID)) == 1 })
	b.waitTicket(t, tk.ID, func(*scorebridge.Ticket) bool {
		audit, _ := b.tickets.FindTicketAudit(b.ctx, tk.ID)
		return len(audit) >= 2 && audit[1].Kind == "response"
	})
	// The refused mark-sent ends the attempt with an error in River's record:
	// only then is the refusal certain (reads no longer queue behind the
	// worker's write, so the response's audit can be seen before it).
	b.waitTicket(t, tk.ID, func(*scorebridge.Ticket) bool {
		var n int
		err := b.db.SQL.QueryRowContext(b.ctx, `SELECT COUNT(*) FROM river_job WHERE errors IS NOT NULL`).Scan(&n)
		return err == nil && n > 0
	})
	if got, _ := b.tickets.FindTicketByID(b.ctx, tk.ID); got.Status == scorebridge.TicketSent {
		t.Fatalf("ticket marked sent while its audit could not be written: %+v", got)
	}
	if _, err := b.db.SQL.Exec(`DROP TRIGGER audit_refused`); err != nil {
		t.Fatal(err)
	}
	got := b.waitTicket(t, tk.ID, nil)
	if got.Status != scorebridge.TicketSent || len(b.records(t, "incident", tk.ID)) != 1 {
		t.Fatalf("ticket %+v", got)
	}
	if sent := sendEvents(t, b, tk.ID); len(sent) != 1 || sent[0].Detail["adopted"] != true {
		t.Fatalf("ticket.send events %+v, want one adoption", sent)
	}
}
