package jobs_test

import (
	"context"
	"sync"
	"testing"

	"github.com/scorebridge/scorebridge"
)

// recordingAudit is an AuditService that keeps events in memory: the
// domain-interface stand-in for the audit store.
type recordingAudit struct {
	scorebridge.AuditService
	mu     sync.Mutex
	events []*scorebridge.AuditEvent
}

func (r *recordingAudit) RecordAuditEvent(_ context.Context, e *scorebridge.AuditEvent) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return nil
}

// TestTicket_SendIsAudited: every ticket sent lands in the center's audit
// log with who asked for it, which action and the exact payload.
func TestTicket_SendIsAudited(t *testing.T) {
	t.Parallel()
	audit := &recordingAudit{}
	b := setup(t, setupOpts{audit: audit})
	tk := createOne(t, b, &scorebridge.TicketRequest{
		RecommendationIDs: []string{"mfa-admins"}, Type: scorebridge.TicketIncident, Name: "Require MFA", Priority: 3,
	})
	got := b.waitTicket(t, tk.ID, nil)
	if got.Status != scorebridge.TicketSent {
		t.Fatalf("ticket %+v", got)
	}
	audit.mu.Lock()
	defer audit.mu.Unlock()
	var sent []*scorebridge.AuditEvent
	for _, e := range audit.events {
		if e.Action == scorebridge.AuditTicketSend && e.Target == tk.ID {
			sent = append(sent, e)
		}
	}
	if len(sent) != 1 {
		t.Fatalf("%d ticket.send events, want 1: %+v", len(sent), audit.events)
	}
	d := sent[0].Detail
	payload, _ := d["payload"].(map[string]string)
	if d["requested_by"] != "alice" || d["number"] != got.Number || payload["short_description"] != "Require MFA" || payload["correlation_id"] != tk.ID {
		t.Errorf("audit detail %+v", d)
	}
}
