package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/sqlstore"
)

var oneTimePattern = regexp.MustCompile(`[A-Za-z0-9]{5}-[A-Za-z0-9]{5}-[A-Za-z0-9]{5}-[A-Za-z0-9]{5}`)

func TestUserCommands(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "center.db")
	code, out, errOut := runCmd(t, nil, "user", "create", "--name", "ana", "--role", "reader", "--db", dbPath)
	password := oneTimePattern.FindString(out)
	if code != 0 || password == "" {
		t.Fatalf("user create = %d: %s %s", code, out, errOut)
	}
	if code, _, errOut := runCmd(t, nil, "user", "create", "--name", "ana", "--role", "admin", "--db", dbPath); code != 1 || !strings.Contains(errOut, "already exists") {
		t.Errorf("duplicate user = %d, %q", code, errOut)
	}
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a := newAuthServices(db)
	acc, err := a.accounts.Authenticate(ctx, "ana", password)
	if err != nil || acc.Role != scorebridge.RoleReader || !acc.MustChangePassword {
		t.Fatalf("created account: %+v, %v", acc, err)
	}
	if err := a.accounts.ChangePassword(ctx, acc.ID, password, "ana's own password"); err != nil {
		t.Fatal(err)
	}
	token, _ := a.sessions.CreateSession(ctx, acc.ID)

	code, out, _ = runCmd(t, nil, "user", "reset-password", "--db", dbPath, "ana")
	reset := oneTimePattern.FindString(out)
	if code != 0 || reset == "" || reset == password {
		t.Fatalf("reset-password = %d: %s", code, out)
	}
	if _, _, err := a.sessions.FindSession(ctx, token); err == nil {
		t.Error("a session survived the password reset")
	}
	if acc, err := a.accounts.Authenticate(ctx, "ana", reset); err != nil || !acc.MustChangePassword {
		t.Errorf("after reset: %+v, %v", acc, err)
	}
	if _, err := a.accounts.Authenticate(ctx, "ana", "ana's own password"); err == nil {
		t.Error("the old password still works after a reset")
	}
	if _, out, _ = runCmd(t, nil, "user", "list", "--db", dbPath); !strings.Contains(out, "ana") || !strings.Contains(out, "to change") || strings.Contains(out, reset) {
		t.Errorf("user list:\n%s", out)
	}
	if code, _, errOut := runCmd(t, nil, "user", "reset-password", "--db", dbPath, "nobody"); code != 1 || !strings.Contains(errOut, "No local account") {
		t.Errorf("reset unknown = %d, %q", code, errOut)
	}
	for _, bad := range [][]string{{"user"}, {"user", "create", "--db", dbPath, "--name", "x"}, {"user", "reset-password", "--db", dbPath}, {"user", "delete"}} {
		if code, _, _ := runCmd(t, nil, bad...); code != 2 {
			t.Errorf("%q = %d, want 2", bad, code)
		}
	}
}
