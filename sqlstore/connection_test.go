package sqlstore_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/internal/clocktest"
	"github.com/scorebridge/scorebridge/secret"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// Values that must never appear in the database in clear.
const (
	testClientSecret = "client-secret-4c1d8e"
	testAccessToken  = "access-token-9f2a7b"
	testRefreshToken = "refresh-token-0e5c3d"
	testVerifier     = "pkce-verifier-7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f"
)

func newConnectionStore(t *testing.T, b backend) (*sqlstore.ConnectionStore, *sqlstore.DB, *clocktest.Clock) {
	t.Helper()
	db, clock := openTest(t, b)
	key, _ := secret.ParseKey(secret.NewKey())
	box, err := secret.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	return sqlstore.NewConnectionStore(db, box), db, clock
}

func mustCreateConnection(t *testing.T, s *sqlstore.ConnectionStore, id, instance string) *scorebridge.Connection {
	t.Helper()
	c := &scorebridge.Connection{ID: id, InstanceURL: instance, ClientID: "client-" + id}
	if err := s.CreateConnection(context.Background(), c, testClientSecret, nil); err != nil {
		t.Fatalf("create connection %s: %v", id, err)
	}
	return c
}

func TestConnection_CreateFindDefault(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s, _, _ := newConnectionStore(t, b)
		ctx := context.Background()

		if _, err := s.FindConnectionByID(ctx, ""); scorebridge.ErrorCode(err) != scorebridge.ENOTFOUND {
			t.Fatalf("default of an empty store: err = %v, want ENOTFOUND", err)
		}
		a := mustCreateConnection(t, s, "a", "https://a.service-now.com")
		bc := mustCreateConnection(t, s, "b", "https://b.service-now.com")
		if !a.IsDefault || bc.IsDefault {
			t.Fatalf("first connection default = %v, second = %v; want true, false", a.IsDefault, bc.IsDefault)
		}
		if a.Status != scorebridge.ConnectionPending || a.RefreshTokenLifespan != scorebridge.DefaultRefreshTokenLifespan {
			t.Fatalf("new connection = %+v", a)
		}
		// The same instance and client id twice is a conflict, and nothing is written.
		dup := &scorebridge.Connection{ID: "c", InstanceURL: a.InstanceURL, ClientID: a.ClientID}
		if err := s.CreateConnection(ctx, dup, "x", nil); scorebridge.ErrorCode(err) != scorebridge.ECONFLICT {
			t.Fatalf("duplicate: err = %v, want ECONFLICT", err)
		}
		if _, err := s.FindConnectionByID(ctx, "c"); scorebridge.ErrorCode(err) != scorebridge.ENOTFOUND {
			t.Fatalf("refused duplicate was stored: %v", err)
		}

		got, err := s.FindConnectionByID(ctx, "")
		if err != nil || got.ID != "a" {
			t.Fatalf("default = %v, %v; want a", got, err)
		}
		if err := s.SetDefaultConnection(ctx, "b", nil); err != nil {
			t.Fatal(err)
		}
		all, err := s.FindConnections(ctx)
		if err != nil || len(all) != 2 || all[0].ID != "b" || !all[0].IsDefault || all[1].IsDefault {
			t.Fatalf("after SetDefault(b): %v, %v", all, err)
		}
		if err := s.SetDefaultConnection(ctx, "zzz", nil); scorebridge.ErrorCode(err) != scorebridge.ENOTFOUND {
			t.Fatalf("SetDefault(unknown): err = %v", err)
		}
		// Deleting the default promotes the remaining connection.
		if err := s.DeleteConnection(ctx, "b", nil); err != nil {
			t.Fatal(err)
		}
		if got, err := s.FindConnectionByID(ctx, ""); err != nil || got.ID != "a" {
			t.Fatalf("default after deleting b = %v, %v; want a", got, err)
		}
		if err := s.DeleteConnection(ctx, "b", nil); scorebridge.ErrorCode(err) != scorebridge.ENOTFOUND {
			t.Fatalf("delete twice: err = %v", err)
		}
	})
}

func TestConnection_TokensAndStatus(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s, _, clock := newConnectionStore(t, b)
		ctx := context.Background()
		mustCreateConnection(t, s, "a", "https://a.service-now.com")

		now := clock.Now().UTC().Truncate(time.Microsecond)
		tok := scorebridge.ConnectionTokens{
			AccessToken: testAccessToken, RefreshToken: testRefreshToken,
			AccessTokenExpiresAt: now.Add(30 * time.Minute), RefreshTokenExpiresAt: now.Add(100 * 24 * time.Hour),
		}
		c, err := s.SaveAuthorization(ctx, "a", "scorebridge.integration", "scorebridge.integration", tok, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != scorebridge.ConnectionConnected || c.IntegrationUser != "scorebridge.integration" ||
			c.ConnectedSince == nil || !c.AccessTokenExpiresAt.Equal(tok.AccessTokenExpiresAt) ||
			!c.RefreshTokenExpiresAt.Equal(tok.RefreshTokenExpiresAt) {
			t.Fatalf("after authorization: %+v", c)
		}
		_, sec, err := s.FindConnectionSecrets(ctx, "a")
		if err != nil || sec.ClientSecret != testClientSecret || sec.AccessToken != testAccessToken || sec.RefreshToken != testRefreshToken {
			t.Fatalf("secrets = %+v, %v", sec, err)
		}

		if err := s.RecordFailure(ctx, "a", scorebridge.ConnectionError, "unreachable", "The instance did not answer."); err != nil {
			t.Fatal(err)
		}
		c, _ = s.FindConnectionByID(ctx, "a")
		if c.Status != scorebridge.ConnectionError || c.LastErrorCause != "unreachable" || c.LastErrorAt == nil {
			t.Fatalf("after failure: %+v", c)
		}
		if err := s.RecordSuccess(ctx, "a"); err != nil {
			t.Fatal(err)
		}
		c, _ = s.FindConnectionByID(ctx, "a")
		if c.Status != scorebridge.ConnectionConnected || c.LastError != "" || c.LastSuccessAt == nil {
			t.Fatalf("after success: %+v", c)
		}

		// A refused refresh drops the tokens, and a success alone does not
		// undo "authorization required".
		if err := s.RecordFailure(ctx, "a", scorebridge.ConnectionAuthorizationRequired, "refresh_refused", "refused"); err != nil {
			t.Fatal(err)
		}
		_, sec, _ = s.FindConnectionSecrets(ctx, "a")
		if sec.AccessToken != "" || sec.RefreshToken != "" || sec.ClientSecret != testClientSecret {
			t.Fatalf("tokens kept after authorization_required: %+v", sec)
		}
		s.RecordSuccess(ctx, "a")
		if c, _ = s.FindConnectionByID(ctx, "a"); c.Status != scorebridge.ConnectionAuthorizationRequired {
			t.Fatalf("status = %s, want authorization_required", c.Status)
		}
		tok.AccessToken = "second-access"
		if err := s.SaveRefresh(ctx, "a", tok); err != nil {
			t.Fatal(err)
		}
		_, sec, _ = s.FindConnectionSecrets(ctx, "a")
		if sec.AccessToken != "second-access" {
			t.Fatalf("access token after SaveRefresh = %q", sec.AccessToken)
		}
		if err := s.SaveRefresh(ctx, "nope", tok); scorebridge.ErrorCode(err) != scorebridge.ENOTFOUND {
			t.Fatalf("SaveRefresh(unknown): %v", err)
		}

		// The checklist's second run finds the connection by client and
		// rotates its secret.
		found, err := s.FindConnectionByClient(ctx, "https://a.service-now.com", "client-a")
		if err != nil || found.ID != "a" {
			t.Fatalf("FindConnectionByClient = %v, %v", found, err)
		}
		if _, err := s.FindConnectionByClient(ctx, "https://a.service-now.com", "other"); scorebridge.ErrorCode(err) != scorebridge.ENOTFOUND {
			t.Fatalf("FindConnectionByClient(other) = %v", err)
		}
		if err := s.UpdateClientSecret(ctx, "a", "rotated-secret", 24*time.Hour, nil); err != nil {
			t.Fatal(err)
		}
		c, sec, _ = s.FindConnectionSecrets(ctx, "a")
		if sec.ClientSecret != "rotated-secret" || c.RefreshTokenLifespan != 24*time.Hour {
			t.Fatalf("after UpdateClientSecret: secret %q, lifespan %v", sec.ClientSecret, c.RefreshTokenLifespan)
		}
		if err := s.UpdateClientSecret(ctx, "a", "again", 0, nil); err != nil {
			t.Fatal(err)
		}
		if c, _ = s.FindConnectionByID(ctx, "a"); c.RefreshTokenLifespan != 24*time.Hour {
			t.Fatalf("lifespan 0 changed the lifespan to %v", c.RefreshTokenLifespan)
		}
		if err := s.UpdateClientSecret(ctx, "nope", "x", 0, nil); scorebridge.ErrorCode(err) != scorebridge.ENOTFOUND {
			t.Fatalf("UpdateClientSecret(unknown): %v", err)
		}
	})
}

func TestConnection_AuthorizationStateIsSingleUse(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s, _, clock := newConnectionStore(t, b)
		ctx := context.Background()
		mustCreateConnection(t, s, "a", "https://a.service-now.com")

		if err := s.CreateAuthorization(ctx, "nope", "state-x", "", testVerifier, clock.Now().Add(time.Minute)); scorebridge.ErrorCode(err) != scorebridge.ENOTFOUND {
			t.Fatalf("authorization for an unknown connection: %v", err)
		}
		if err := s.CreateAuthorization(ctx, "a", "state-1", "session-hash", testVerifier, clock.Now().Add(10*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ConsumeAuthorization(ctx, "forged"); scorebridge.ErrorCode(err) != scorebridge.EINVALID {
			t.Fatalf("forged state: err = %v, want EINVALID", err)
		}
		a, err := s.ConsumeAuthorization(ctx, "state-1")
		id, v := a.ConnectionID, a.Verifier
		if a.Binding != "session-hash" {
			t.Errorf("binding = %q, want the one the authorization was started with", a.Binding)
		}
		if err != nil || id != "a" || v != testVerifier {
			t.Fatalf("consume = %q, %q, %v", id, v, err)
		}
		if _, err := s.ConsumeAuthorization(ctx, "state-1"); scorebridge.ErrorCode(err) != scorebridge.EINVALID {
			t.Fatalf("replayed state: err = %v, want EINVALID", err)
		}
		// An expired state is refused, and used up.
		s.CreateAuthorization(ctx, "a", "state-2", "", testVerifier, clock.Now().Add(10*time.Minute))
		clock.Advance(11 * time.Minute)
		if _, err := s.ConsumeAuthorization(ctx, "state-2"); scorebridge.ErrorCode(err) != scorebridge.EINVALID || !strings.Contains(scorebridge.ErrorMessage(err), "expired") {
			t.Fatalf("expired state: err = %v", err)
		}
		// Removing the connection drops its authorizations in flight.
		s.CreateAuthorization(ctx, "a", "state-3", "", testVerifier, clock.Now().Add(10*time.Minute))
		if err := s.DeleteConnection(ctx, "a", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ConsumeAuthorization(ctx, "state-3"); scorebridge.ErrorCode(err) != scorebridge.EINVALID {
			t.Fatalf("state of a removed connection: err = %v", err)
		}
	})
}

// TestConnection_NoSecretInClear reads back every stored byte (the SQLite
// file, or every text column on PostgreSQL) and looks for the secrets.
func TestConnection_NoSecretInClear(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		dsn := b.dsn(t)
		db, err := sqlstore.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		key, _ := secret.ParseKey(secret.NewKey())
		box, _ := secret.NewBox(key)
		s := sqlstore.NewConnectionStore(db, box)
		ctx := context.Background()
		mustCreateConnection(t, s, "a", "https://a.service-now.com")
		now := time.Now()
		if _, err := s.SaveAuthorization(ctx, "a", "int.user", "int.user", scorebridge.ConnectionTokens{
			AccessToken: testAccessToken, RefreshToken: testRefreshToken,
			AccessTokenExpiresAt: now.Add(time.Hour), RefreshTokenExpiresAt: now.Add(time.Hour),
		}, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateAuthorization(ctx, "a", "state-1", "", testVerifier, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}

		var stored string
		if b.name == sqlstore.DialectSQLite {
			db.SQL.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
			for _, suffix := range []string{"", "-wal"} {
				data, err := os.ReadFile(dsn + suffix)
				if err != nil && suffix == "" {
					t.Fatal(err)
				}
				stored += string(data)
			}
		} else {
			for _, q := range []string{
				`SELECT concat_ws('|', id, instance_url, client_id, client_secret, access_token, refresh_token) FROM connections`,
				`SELECT concat_ws('|', state_hash, code_verifier) FROM connection_authorizations`,
			} {
				rows, err := db.SQL.QueryContext(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				for rows.Next() {
					var s string
					rows.Scan(&s)
					stored += s + "\n"
				}
				rows.Close()
			}
		}
		if !strings.Contains(stored, "https://a.service-now.com") {
			t.Fatal("the check read nothing: the instance URL is not in what was read")
		}
		for _, s := range []string{testClientSecret, testAccessToken, testRefreshToken, testVerifier, "state-1"} {
			if strings.Contains(stored, s) {
				t.Errorf("%q is stored in clear", s)
			}
		}
	})
}
