package sqlstore_test

import (
	"context"
	"testing"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// The account store records account.create and password.change in the
// transaction that makes the change, with the request's actor and
// address, so no caller (the CLI, a page, an importer) can forget them;
// an event that cannot be written undoes the change.
func TestAccount_ChangesAuditedInTheirTransaction(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db, _ := openTest(t, b)
		s := newAccountStore(t, db)
		audit := sqlstore.NewAuditStore(db)
		ctx := scorebridge.NewContextWithUser(context.Background(), &scorebridge.User{ID: "system", Name: "system"})
		ctx = scorebridge.NewContextWithAddress(ctx, "192.0.2.7")
		events := func(action string) []*scorebridge.AuditEvent {
			t.Helper()
			es, _, err := audit.FindAuditEvents(ctx, scorebridge.AuditFilter{Action: action})
			if err != nil {
				t.Fatal(err)
			}
			return es
		}

		first := &scorebridge.Account{Name: "admin", Role: scorebridge.RoleAdmin, MustChangePassword: true}
		if err := s.CreateAccount(ctx, first, testPassword); err != nil {
			t.Fatal(err)
		}
		ana := scorebridge.NewContextWithUser(ctx, &scorebridge.User{ID: "u-ana", Name: "ana"})
		reader := &scorebridge.Account{Name: "ben", Role: scorebridge.RoleReader}
		if err := s.CreateAccount(ana, reader, testPassword); err != nil {
			t.Fatal(err)
		}
		created := events(scorebridge.AuditAccountCreate)
		if len(created) != 2 {
			t.Fatalf("%d account.create events, want 2", len(created))
		}
		// Newest first.
		if e := created[1]; e.Target != first.ID || e.Actor != "system" || e.Address != "192.0.2.7" || e.Detail["reason"] != "first start" || e.Detail["role"] != string(scorebridge.RoleAdmin) {
			t.Errorf("first account's event %+v", e)
		}
		if e := created[0]; e.Target != reader.ID || e.Actor != "ana" || e.Detail["name"] != "ben" || e.Detail["reason"] != nil {
			t.Errorf("second account's event %+v", e)
		}

		next := testPassword + "-changed"
		if err := s.ChangePassword(ana, reader.ID, testPassword, next); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ResetPassword(ctx, "ben", testPassword+"-reset"); err != nil {
			t.Fatal(err)
		}
		changed := events(scorebridge.AuditPasswordChange)
		if len(changed) != 2 || changed[1].Target != reader.ID || changed[1].Actor != "ana" || changed[0].Detail["reason"] != "reset" {
			t.Fatalf("password.change events %+v", changed)
		}

		// No audit log to write to: the change is refused with it.
		if _, err := db.SQL.Exec(`ALTER TABLE audit_events RENAME TO audit_events_away`); err != nil {
			t.Fatal(err)
		}
		err := s.CreateAccount(ctx, &scorebridge.Account{Name: "carl", Role: scorebridge.RoleReader}, testPassword)
		if err == nil {
			t.Fatal("an account was created without its audit event")
		}
		if err := s.ChangePassword(ana, reader.ID, testPassword+"-reset", testPassword+"-again"); err == nil {
			t.Fatal("a password was changed without its audit event")
		}
		if _, err := db.SQL.Exec(`ALTER TABLE audit_events_away RENAME TO audit_events`); err != nil {
			t.Fatal(err)
		}
		if _, err := s.FindAccountByName(ctx, "carl"); scorebridge.ErrorCode(err) != scorebridge.ENOTFOUND {
			t.Errorf("carl was stored without an audit event: %v", err)
		}
		if _, err := s.Authenticate(ctx, "ben", testPassword+"-reset"); err != nil {
			t.Errorf("the password changed without an audit event: %v", err)
		}
	})
}
