package connection_test

import (
	"context"
	"testing"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/connection"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// TestService_AuditsItsChanges: the service records each change it makes
// to a connection, in the change's transaction, whoever calls it.
func TestService_AuditsItsChanges(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	c, pw := b.checklist(t)
	b.authorize(t, c.ID, connection.DefaultIntegrationUser, pw)
	if _, err := b.svc.RunChecklist(ctx, scorebridge.ChecklistInput{Instance: b.srv.URL, AdminUser: "admin", AdminPassword: "admin", IntegrationPassword: pw, ResetPassword: true}); err != nil {
		t.Fatal(err)
	}
	other, err := b.svc.CreateConnection(ctx, scorebridge.ConnectionCreate{Instance: b.srv.URL, ClientID: "other", ClientSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.svc.SetDefaultConnection(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	if err := b.svc.RemoveConnection(ctx, c.ID); err != nil {
		t.Fatal(err)
	}

	events, _, err := sqlstore.NewAuditStore(b.db).FindAuditEvents(ctx, scorebridge.AuditFilter{Action: scorebridge.AuditConnection})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ change, target string }{
		{"removed", c.ID}, {"made_default", other.ID}, {"created", other.ID},
		{"client_secret_replaced", c.ID}, {"authorized", c.ID}, {"created", c.ID},
	}
	if len(events) != len(want) {
		t.Fatalf("%d connection events, want %d: %+v", len(events), len(want), events)
	}
	for i, w := range want {
		if e := events[i]; e.Detail["change"] != w.change || e.Target != w.target || e.Outcome != scorebridge.OutcomeSuccess {
			t.Errorf("event %d = %s %v, want %s of %s", i, e.Target, e.Detail, w.change, w.target)
		}
	}
	if got := events[4].Detail["integration_user"]; got != connection.DefaultIntegrationUser {
		t.Errorf("authorized event names %v as the integration user", got)
	}
}
