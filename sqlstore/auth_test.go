package sqlstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/sqlstore"
	"golang.org/x/crypto/bcrypt"
)

const testPassword = "correct horse battery"

func newAccountStore(t *testing.T, db *sqlstore.DB) *sqlstore.AccountStore {
	s := sqlstore.NewAccountStore(db)
	s.PasswordCost = bcrypt.MinCost
	return s
}

func TestAccount_CreateAuthenticateChange(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		db, _ := openTest(t, b)
		s := newAccountStore(t, db)
		if n, err := s.CountAccounts(ctx); err != nil || n != 0 {
			t.Fatalf("CountAccounts = %d, %v", n, err)
		}
		a := &scorebridge.Account{Name: "alice", Role: scorebridge.RoleAdmin, MustChangePassword: true}
		if err := s.CreateAccount(ctx, a, testPassword); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateAccount(ctx, &scorebridge.Account{Name: "alice", Role: scorebridge.RoleReader}, testPassword); scorebridge.ErrorCode(err) != scorebridge.ECONFLICT {
			t.Errorf("duplicate name: %v", err)
		}
		for _, bad := range []struct {
			a  scorebridge.Account
			pw string
		}{
			{scorebridge.Account{Name: "", Role: "admin"}, testPassword},
			{scorebridge.Account{Name: " bob", Role: "admin"}, testPassword},
			{scorebridge.Account{Name: "bob\x00", Role: "admin"}, testPassword},
			{scorebridge.Account{Name: "bob", Role: "root"}, testPassword},
			{scorebridge.Account{Name: "bob", Role: "admin"}, "short"},
			{scorebridge.Account{Name: "bob", Role: "admin"}, strings.Repeat("x", 73)},
		} {
			if err := s.CreateAccount(ctx, &bad.a, bad.pw); scorebridge.ErrorCode(err) != scorebridge.EINVALID {
				t.Errorf("CreateAccount(%+v) = %v, want EINVALID", bad.a, err)
			}
		}
		if n, _ := s.CountAccounts(ctx); n != 1 {
			t.Fatalf("refused accounts were stored: %d", n)
		}
		if got, err := s.FindAccountByName(ctx, "alice"); err != nil || got.ID != a.ID || got.Role != scorebridge.RoleAdmin {
			t.Errorf("FindAccountByName = %+v, %v", got, err)
		}
		if _, err := s.FindAccountByName(ctx, "Alice"); scorebridge.ErrorCode(err) != scorebridge.ENOTFOUND {
			t.Errorf("FindAccountByName(other case) = %v, want ENOTFOUND", err)
		}
		if got, err := s.FindAccountByID(ctx, a.ID); err != nil || got.Name != "alice" {
			t.Errorf("FindAccountByID = %+v, %v", got, err)
		}

		got, err := s.Authenticate(ctx, "alice", testPassword)
		if err != nil || got.ID != a.ID || !got.MustChangePassword || got.LastSignInAt == nil {
			t.Fatalf("Authenticate = %+v, %v", got, err)
		}
		_, errPw := s.Authenticate(ctx, "alice", "wrong password!")
		_, errName := s.Authenticate(ctx, "mallory", testPassword)
		if scorebridge.ErrorCode(errPw) != scorebridge.EUNAUTHORIZED || scorebridge.ErrorMessage(errPw) != scorebridge.ErrorMessage(errName) {
			t.Errorf("a wrong password and a wrong name must answer alike: %v / %v", errPw, errName)
		}

		if err := s.ChangePassword(ctx, a.ID, "not the password", "a new long password"); scorebridge.ErrorCode(err) != scorebridge.EINVALID || scorebridge.ErrorField(err) != "current" {
			t.Errorf("wrong current password: %v", err)
		}
		if err := s.ChangePassword(ctx, a.ID, testPassword, testPassword); scorebridge.ErrorCode(err) != scorebridge.EINVALID {
			t.Errorf("same password: %v", err)
		}
		if err := s.ChangePassword(ctx, a.ID, testPassword, "a new long password"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, "alice", testPassword); err == nil {
			t.Error("the old password still works")
		}
		if got, err := s.Authenticate(ctx, "alice", "a new long password"); err != nil || got.MustChangePassword {
			t.Errorf("after change: %+v, %v", got, err)
		}

		var hash string
		if err := db.SQL.QueryRow(`SELECT password_hash FROM accounts`).Scan(&hash); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(hash, "$2") || strings.Contains(hash, "a new long password") {
			t.Errorf("password not stored as bcrypt: %q", hash)
		}
	})
}

func TestAccount_SignInOIDC(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		db, _ := openTest(t, b)
		s := newAccountStore(t, db)
		if err := s.CreateAccount(ctx, &scorebridge.Account{Name: "jane", Role: scorebridge.RoleAdmin}, testPassword); err != nil {
			t.Fatal(err)
		}
		a, err := s.SignInOIDC(ctx, "https://idp sub-1", "jane", scorebridge.RoleReader)
		if err != nil {
			t.Fatal(err)
		}
		if a.Name != "jane (sso)" || a.Provider != scorebridge.ProviderOIDC || a.Role != scorebridge.RoleReader {
			t.Errorf("an identity provider user must not take over a local name: %+v", a)
		}
		again, err := s.SignInOIDC(ctx, "https://idp sub-1", "jane.doe", scorebridge.RoleOperator)
		if err != nil || again.ID != a.ID || again.Role != scorebridge.RoleOperator || again.Name != "jane.doe" {
			t.Errorf("second sign-in = %+v, %v; want same account with the new role and name", again, err)
		}
		if _, err := s.Authenticate(ctx, "jane.doe", ""); err == nil {
			t.Error("an OIDC account signed in with a password")
		}
		if err := s.ChangePassword(ctx, a.ID, "", "a new long password"); scorebridge.ErrorCode(err) != scorebridge.EINVALID {
			t.Errorf("password change on OIDC account: %v", err)
		}
		if _, err := s.SignInOIDC(ctx, "", "x", scorebridge.RoleReader); scorebridge.ErrorCode(err) != scorebridge.EINVALID {
			t.Errorf("empty subject: %v", err)
		}
	})
}

func TestSession_LifetimesAndSignOut(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		db, clock := openTest(t, b)
		accounts := newAccountStore(t, db)
		a := &scorebridge.Account{Name: "alice", Role: scorebridge.RoleOperator}
		if err := accounts.CreateAccount(ctx, a, testPassword); err != nil {
			t.Fatal(err)
		}
		s := sqlstore.NewSessionStore(db)
		s.Idle, s.Absolute = 30*time.Minute, 2*time.Hour

		tok, err := s.CreateSession(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		other, _ := s.CreateSession(ctx, a.ID)
		if tok == other || len(tok) < 40 {
			t.Fatalf("session tokens must be fresh and long: %q %q", tok, other)
		}
		sess, acc, err := s.FindSession(ctx, tok)
		if err != nil || acc.ID != a.ID || acc.Role != scorebridge.RoleOperator || sess.AccountID != a.ID {
			t.Fatalf("FindSession = %+v %+v %v", sess, acc, err)
		}
		if _, _, err := s.FindSession(ctx, tok+"x"); scorebridge.ErrorCode(err) != scorebridge.EUNAUTHORIZED {
			t.Errorf("unknown token: %v", err)
		}
		// Activity keeps it alive past the idle timeout ...
		for range 5 {
			clock.Advance(20 * time.Minute)
			if _, _, err := s.FindSession(ctx, tok); err != nil {
				t.Fatalf("active session ended at %v: %v", clock.Now(), err)
			}
		}
		// ... but not past the absolute end.
		clock.Advance(20 * time.Minute)
		if _, _, err := s.FindSession(ctx, tok); scorebridge.ErrorCode(err) != scorebridge.EUNAUTHORIZED {
			t.Errorf("session outlived its absolute end: %v", err)
		}
		// The other one sat idle.
		if _, _, err := s.FindSession(ctx, other); scorebridge.ErrorCode(err) != scorebridge.EUNAUTHORIZED {
			t.Errorf("idle session still open: %v", err)
		}

		tok, _ = s.CreateSession(ctx, a.ID)
		if err := s.DeleteSession(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.FindSession(ctx, tok); err == nil {
			t.Error("signed-out session still open")
		}
		t1, _ := s.CreateSession(ctx, a.ID)
		t2, _ := s.CreateSession(ctx, a.ID)
		if err := s.DeleteAccountSessions(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		for _, tk := range []string{t1, t2} {
			if _, _, err := s.FindSession(ctx, tk); err == nil {
				t.Error("session survived DeleteAccountSessions")
			}
		}
		s.CreateSession(ctx, a.ID)
		var hash string
		if err := db.SQL.QueryRow(`SELECT token_hash FROM sessions`).Scan(&hash); err != nil || len(hash) != 64 {
			t.Errorf("session key %q (%v), want a SHA-256 in hex", hash, err)
		}
	})
}

func TestAPIToken_ExpiryRevocationHash(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := scorebridge.NewContextWithUser(context.Background(), &scorebridge.User{Name: "alice"})
		db, clock := openTest(t, b)
		s := sqlstore.NewAPITokenStore(db)

		expires := clock.Now().Add(24 * time.Hour)
		tok := &scorebridge.APIToken{Name: "ci", Role: scorebridge.RoleOperator, ExpiresAt: &expires}
		secret, err := s.CreateAPIToken(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(secret, scorebridge.APITokenPrefix) || len(secret) < 40 || tok.CreatedBy != "alice" || !strings.HasPrefix(secret, strings.TrimSuffix(tok.Hint, "…")) {
			t.Fatalf("token %q hint %q by %q", secret, tok.Hint, tok.CreatedBy)
		}
		clock.Advance(time.Second)
		never := &scorebridge.APIToken{Name: "forever", Role: scorebridge.RoleReader}
		secret2, err := s.CreateAPIToken(ctx, never)
		if err != nil {
			t.Fatal(err)
		}
		past := clock.Now().Add(-time.Second)
		for _, bad := range []*scorebridge.APIToken{{Name: "", Role: "reader"}, {Name: "x", Role: "root"}, {Name: "x", Role: "reader", ExpiresAt: &past}} {
			if _, err := s.CreateAPIToken(ctx, bad); scorebridge.ErrorCode(err) != scorebridge.EINVALID {
				t.Errorf("CreateAPIToken(%+v) = %v", bad, err)
			}
		}

		got, err := s.AuthenticateAPIToken(ctx, secret)
		if err != nil || got.ID != tok.ID || got.Role != scorebridge.RoleOperator || got.LastUsedAt != nil {
			t.Fatalf("AuthenticateAPIToken = %+v, %v", got, err)
		}
		clock.Advance(time.Hour)
		if got, _ := s.AuthenticateAPIToken(ctx, secret); got == nil || got.LastUsedAt == nil {
			t.Errorf("second use does not report the first: %+v", got)
		}
		for _, bad := range []string{"", "sbt_", secret + "x", strings.TrimPrefix(secret, "sbt_")} {
			if _, err := s.AuthenticateAPIToken(ctx, bad); scorebridge.ErrorCode(err) != scorebridge.EUNAUTHORIZED {
				t.Errorf("AuthenticateAPIToken(%q) = %v", bad, err)
			}
		}
		clock.Advance(24 * time.Hour)
		if _, err := s.AuthenticateAPIToken(ctx, secret); scorebridge.ErrorCode(err) != scorebridge.EUNAUTHORIZED {
			t.Errorf("expired token accepted: %v", err)
		}
		if _, err := s.AuthenticateAPIToken(ctx, secret2); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeAPIToken(ctx, never.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AuthenticateAPIToken(ctx, secret2); scorebridge.ErrorCode(err) != scorebridge.EUNAUTHORIZED {
			t.Errorf("revoked token accepted: %v", err)
		}
		if err := s.RevokeAPIToken(ctx, "nope"); scorebridge.ErrorCode(err) != scorebridge.ENOTFOUND {
			t.Errorf("revoke unknown: %v", err)
		}
		list, err := s.FindAPITokens(ctx)
		if err != nil || len(list) != 2 || list[0].ID != never.ID || list[0].RevokedAt == nil || list[1].Active(clock.Now()) {
			t.Fatalf("FindAPITokens = %+v, %v", list, err)
		}
		rows, err := db.SQL.Query(`SELECT id, name, token_hash, hint FROM api_tokens`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id, name, hash, hint string
			rows.Scan(&id, &name, &hash, &hint)
			if row := id + name + hash + hint; strings.Contains(row, secret) || strings.Contains(row, secret2) || strings.Contains(row, secret[10:30]) {
				t.Errorf("a token is stored in clear: %s", row)
			}
		}
	})
}

func TestAudit_RecordFindCountRedact(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := scorebridge.NewContextWithUser(context.Background(), &scorebridge.User{Name: "alice"})
		db, clock := openTest(t, b)
		s := sqlstore.NewAuditStore(db)
		start := clock.Now()
		for i := range 7 {
			e := &scorebridge.AuditEvent{Action: scorebridge.AuditSignIn, Outcome: scorebridge.OutcomeFailure, Actor: "bob", Address: "10.0.0.1"}
			if i%2 == 0 {
				e = &scorebridge.AuditEvent{Action: scorebridge.AuditTicketSend, Target: "T1", Detail: map[string]any{
					"payload": map[string]any{"short_description": "Enable MFA", "client_secret": "s3cr3t-value"},
					"headers": map[string]string{"Authorization": "Bearer abc-token-value"},
				}}
			}
			if err := s.RecordAuditEvent(ctx, e); err != nil {
				t.Fatal(err)
			}
			clock.Advance(time.Minute)
		}
		if err := s.RecordAuditEvent(ctx, &scorebridge.AuditEvent{}); scorebridge.ErrorCode(err) != scorebridge.EINVALID {
			t.Errorf("event without action: %v", err)
		}
		all, next, err := s.FindAuditEvents(ctx, scorebridge.AuditFilter{Limit: 3})
		if err != nil || len(all) != 3 || next == "" || all[0].ID <= all[1].ID {
			t.Fatalf("first page = %d events, next %q, %v", len(all), next, err)
		}
		var seen []*scorebridge.AuditEvent
		seen = append(seen, all...)
		for next != "" {
			var page []*scorebridge.AuditEvent
			if page, next, err = s.FindAuditEvents(ctx, scorebridge.AuditFilter{Limit: 3, Cursor: next}); err != nil {
				t.Fatal(err)
			}
			seen = append(seen, page...)
		}
		if len(seen) != 7 {
			t.Fatalf("paging saw %d events, want 7", len(seen))
		}
		// The store and the API share one ceiling: above it is refused.
		if _, _, err := s.FindAuditEvents(ctx, scorebridge.AuditFilter{Limit: scorebridge.MaxAuditPage + 1}); scorebridge.ErrorField(err) != "limit" {
			t.Errorf("a page above MaxAuditPage: %v, want EINVALID on limit", err)
		}
		if _, _, err := s.FindAuditEvents(ctx, scorebridge.AuditFilter{Cursor: "x"}); scorebridge.ErrorCode(err) != scorebridge.EINVALID {
			t.Errorf("bad cursor: %v", err)
		}
		sends, _, _ := s.FindAuditEvents(ctx, scorebridge.AuditFilter{Action: scorebridge.AuditTicketSend})
		if len(sends) != 4 || sends[0].Actor != "alice" || sends[0].Outcome != scorebridge.OutcomeSuccess {
			t.Fatalf("ticket events = %+v", sends)
		}
		payload := sends[0].Detail["payload"].(map[string]any)
		if payload["short_description"] != "Enable MFA" || payload["client_secret"] != "[redacted]" {
			t.Errorf("payload kept as %v", payload)
		}
		if n, err := s.CountAuditEvents(ctx, scorebridge.AuditFilter{Action: scorebridge.AuditSignIn, Outcome: scorebridge.OutcomeFailure, Actor: "bob", Since: start.Add(2 * time.Minute)}); err != nil || n != 2 {
			t.Errorf("recent failures = %d, %v; want 2", n, err)
		}
		if n, _ := s.CountAuditEvents(ctx, scorebridge.AuditFilter{Address: "10.0.0.1", Until: start.Add(2 * time.Minute)}); n != 1 {
			t.Errorf("failures before = %d, want 1", n)
		}
		var raw string
		rows, _ := db.SQL.Query(`SELECT detail FROM audit_events`)
		for rows.Next() {
			rows.Scan(&raw)
			if strings.Contains(raw, "s3cr3t-value") || strings.Contains(raw, "abc-token-value") {
				t.Errorf("a secret reached the audit table: %s", raw)
			}
		}
		rows.Close()
	})
}

// A session used more often than its idle timeout stays alive however
// short that timeout is: last-seen is written at a granularity finer than
// the timeout.
func TestSession_ShortIdleKeptAliveByUse(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		db, clock := openTest(t, b)
		accounts := newAccountStore(t, db)
		a := &scorebridge.Account{Name: "alice", Role: scorebridge.RoleReader}
		if err := accounts.CreateAccount(ctx, a, testPassword); err != nil {
			t.Fatal(err)
		}
		s := sqlstore.NewSessionStore(db)
		s.Idle = 30 * time.Second
		token, err := s.CreateSession(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 10 {
			clock.Advance(20 * time.Second)
			if _, _, err := s.FindSession(ctx, token); err != nil {
				t.Fatalf("use %d, 20 s after the last one, with a 30 s idle timeout: %v", i+1, err)
			}
		}
		clock.Advance(31 * time.Second)
		if _, _, err := s.FindSession(ctx, token); scorebridge.ErrorCode(err) != scorebridge.EUNAUTHORIZED {
			t.Fatalf("after 31 s unused: %v, want the session ended", err)
		}
	})
}
