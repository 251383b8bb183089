package sqlstore_test

import (
	"context"
	"testing"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// TestAuditInTx: a change and its audit event are one transaction. A
// change records its event with the request's actor and address; an event
// that cannot be written undoes the change.
func TestAuditInTx(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s, db, _ := newConnectionStore(t, b)
		audit := sqlstore.NewAuditStore(db)
		ctx := scorebridge.NewContextWithUser(context.Background(), &scorebridge.User{Name: "ana"})
		ctx = scorebridge.NewContextWithAddress(ctx, "192.0.2.7")

		c := &scorebridge.Connection{ID: "a", InstanceURL: "https://a.service-now.com", ClientID: "client-a"}
		if err := s.CreateConnection(ctx, c, testClientSecret, &scorebridge.AuditEvent{Action: scorebridge.AuditConnection, Target: "a"}); err != nil {
			t.Fatal(err)
		}
		events, _, err := audit.FindAuditEvents(ctx, scorebridge.AuditFilter{Action: scorebridge.AuditConnection})
		if err != nil || len(events) != 1 || events[0].Actor != "ana" || events[0].Address != "192.0.2.7" || events[0].Target != "a" {
			t.Fatalf("events = %+v, %v; want one by ana from 192.0.2.7", events, err)
		}

		// An event without an action is refused, and the change with it.
		bad := &scorebridge.AuditEvent{Target: "b"}
		if err := s.CreateConnection(ctx, &scorebridge.Connection{ID: "b", InstanceURL: "https://b.service-now.com", ClientID: "client-b"}, testClientSecret, bad); scorebridge.ErrorCode(err) != scorebridge.EINVALID {
			t.Fatalf("create with a bad event: %v, want EINVALID", err)
		}
		if _, err := s.FindConnectionByID(ctx, "b"); scorebridge.ErrorCode(err) != scorebridge.ENOTFOUND {
			t.Errorf("the connection was stored without its audit event: %v", err)
		}
		if err := s.DeleteConnection(ctx, "a", bad); scorebridge.ErrorCode(err) != scorebridge.EINVALID {
			t.Fatalf("delete with a bad event: %v, want EINVALID", err)
		}
		if _, err := s.FindConnectionByID(ctx, "a"); err != nil {
			t.Errorf("the connection was deleted without its audit event: %v", err)
		}
		if n, _ := audit.CountAuditEvents(ctx, scorebridge.AuditFilter{}); n != 1 {
			t.Errorf("%d events, want 1", n)
		}
	})
}

// TestAPIToken_AuditedOnce: creating and revoking a token record their
// events themselves, so every caller (page, API, command) is audited alike;
// a revocation that finds no token records nothing.
func TestAPIToken_AuditedOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db, _ := openTest(t, b)
		s, audit := sqlstore.NewAPITokenStore(db), sqlstore.NewAuditStore(db)
		ctx := scorebridge.NewContextWithUser(context.Background(), &scorebridge.User{Name: "ana"})
		ctx = scorebridge.NewContextWithAddress(ctx, "192.0.2.7")

		tok := &scorebridge.APIToken{Name: "ci", Role: scorebridge.RoleReader}
		if _, err := s.CreateAPIToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeAPIToken(ctx, tok.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeAPIToken(ctx, "nope"); scorebridge.ErrorCode(err) != scorebridge.ENOTFOUND {
			t.Fatalf("revoke unknown: %v", err)
		}
		events, _, err := audit.FindAuditEvents(ctx, scorebridge.AuditFilter{})
		if err != nil || len(events) != 2 {
			t.Fatalf("events = %+v, %v; want a create and a revoke", events, err)
		}
		revoke, create := events[0], events[1]
		if revoke.Action != scorebridge.AuditTokenRevoke || revoke.Target != tok.ID || revoke.Actor != "ana" || revoke.Address != "192.0.2.7" {
			t.Errorf("revoke event = %+v", revoke)
		}
		if create.Action != scorebridge.AuditTokenCreate || create.Target != tok.ID || create.Detail["name"] != "ci" || create.Detail["role"] != scorebridge.RoleReader {
			t.Errorf("create event = %+v", create)
		}
	})
}
