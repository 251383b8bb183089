package connection_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/connection"
	"github.com/scorebridge/scorebridge/servicenow"
)

// TestFlow drives a connection's life against the simulator: checklist,
// authorization through the login and consent pages, calls, refresh,
// shared refresh, refused refresh, re-authorization with the queued work
// kept, removal. Then nothing secret is in the database file or the logs.
func TestFlow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	c, pw := b.checklist(t)
	if c.Status != scorebridge.ConnectionPending || !c.IsDefault || c.IntegrationUser != connection.DefaultIntegrationUser {
		t.Fatalf("after checklist: %+v", c)
	}
	// The integration user was made with itil and nothing more.
	users, _ := b.sim.Query("sys_user", "user_name="+connection.DefaultIntegrationUser)
	grants, _ := b.sim.Query("sys_user_has_role", "user="+users[0]["sys_id"])
	if len(grants) != 1 {
		t.Fatalf("integration user has %d role grants, want 1 (itil)", len(grants))
	}
	entities, _ := b.sim.Query("oauth_entity", "client_id="+c.ClientID)
	if len(entities) != 1 || entities[0]["redirect_url"] != redirectURL || entities[0]["refresh_token_lifespan"] != "8640000" {
		t.Fatalf("oauth_entity = %v", entities)
	}

	// Pending: callers are told an admin must act.
	_, err := b.svc.ConnectedInstance(ctx, "")
	wantCode(t, err, scorebridge.EUNAUTHORIZED)

	c = b.authorize(t, c.ID, connection.DefaultIntegrationUser, pw)
	if c.Status != scorebridge.ConnectionConnected || c.ConnectedSince == nil || c.AccessTokenExpiresAt == nil || c.RefreshTokenExpiresAt == nil {
		t.Fatalf("after authorization: %+v", c)
	}
	if want := b.clock.Now().Add(100 * 24 * time.Hour); !c.RefreshTokenExpiresAt.Equal(want) {
		t.Fatalf("refresh token expiry = %v, want %v", c.RefreshTokenExpiresAt, want)
	}
	ticket := func() (servicenow.Record, error) {
		ci, err := b.svc.ConnectedInstance(ctx, "")
		if err != nil {
			return nil, err
		}
		return servicenow.NewClient(ci.BaseURL, ci.HTTPClient).Create(ctx, "incident", map[string]string{"short_description": "Enable MFA for admins"})
	}
	rec, err := ticket()
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := b.sim.Get("incident", rec.SysID()); got["opened_by"] != users[0]["sys_id"] {
		t.Fatalf("incident opened by %q, want the integration user %q", got["opened_by"], users[0]["sys_id"])
	}
	tokens := b.tokenN.Load()

	// Calls within the token's life reuse it.
	for i := 0; i < 3; i++ {
		if _, err := ticket(); err != nil {
			t.Fatal(err)
		}
	}
	if n := b.tokenN.Load() - tokens; n != 0 {
		t.Fatalf("%d token requests for calls within the token's life, want 0", n)
	}

	// Past its expiry (less the margin), 20 concurrent callers share one refresh.
	b.clock.Advance(29 * time.Minute)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := ticket()
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent call: %v", err)
		}
	}
	if n := b.tokenN.Load() - tokens; n != 1 {
		t.Fatalf("%d refreshes for 20 concurrent callers, want 1", n)
	}
	after, _ := b.svc.FindConnectionByID(ctx, c.ID)
	if !after.AccessTokenExpiresAt.After(*c.AccessTokenExpiresAt) || !after.RefreshTokenExpiresAt.Equal(*c.RefreshTokenExpiresAt) {
		t.Fatalf("after refresh: access expiry %v (was %v), refresh expiry %v (was %v; it must not move)",
			after.AccessTokenExpiresAt, c.AccessTokenExpiresAt, after.RefreshTokenExpiresAt, c.RefreshTokenExpiresAt)
	}
	_, secrets, err := b.store.FindConnectionSecrets(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	oldRefresh := secrets.RefreshToken

	// The instance revokes the refresh token: the next refresh is refused.
	if _, err := (&servicenow.OAuthConfig{InstanceURL: b.srv.URL}).Revoke(ctx, servicenow.NewHTTPClient(b.httpOpt), oldRefresh); err != nil {
		t.Fatal(err)
	}
	b.clock.Advance(31 * time.Minute)
	queued := []string{"Block legacy authentication"} // work waiting for the instance
	send := func() {
		ci, err := b.svc.ConnectedInstance(ctx, "")
		if scorebridge.ErrorCode(err) == scorebridge.EUNAUTHORIZED {
			return // keep the work queued until an admin authorizes again
		} else if err != nil {
			t.Fatalf("send: %v", err)
		}
		for _, d := range queued {
			if _, err := servicenow.NewClient(ci.BaseURL, ci.HTTPClient).Create(ctx, "incident", map[string]string{"short_description": d, "correlation_id": "queued-1"}); err != nil {
				t.Fatalf("send queued work: %v", err)
			}
		}
		queued = nil
	}
	send()
	if len(queued) != 1 {
		t.Fatal("queued work was dropped while the connection needed authorization")
	}
	c, _ = b.svc.FindConnectionByID(ctx, c.ID)
	if c.Status != scorebridge.ConnectionAuthorizationRequired || c.LastErrorCause != connection.CauseRefreshRefused || c.LastError == "" {
		t.Fatalf("after refused refresh: %+v", c)
	}
	_, err = b.svc.ConnectedInstance(ctx, c.ID)
	wantCode(t, err, scorebridge.EUNAUTHORIZED)
	if !strings.Contains(scorebridge.ErrorMessage(err), "authorize it again") {
		t.Fatalf("message %q does not say an admin must authorize again", scorebridge.ErrorMessage(err))
	}

	// The admin authorizes again; the queued work goes out.
	c = b.authorize(t, c.ID, connection.DefaultIntegrationUser, pw)
	if c.Status != scorebridge.ConnectionConnected || c.LastError != "" {
		t.Fatalf("after re-authorization: %+v", c)
	}
	send()
	if len(queued) != 0 {
		t.Fatal("queued work was not sent after re-authorization")
	}
	if got, _ := b.sim.Query("incident", "correlation_id=queued-1"); len(got) != 1 {
		t.Fatalf("%d incidents from the queued work, want 1", len(got))
	}

	// Everything secret the center held, for the grep below.
	_, secrets, _ = b.store.FindConnectionSecrets(ctx, c.ID)
	clientSecret, access, refresh := secrets.ClientSecret, secrets.AccessToken, secrets.RefreshToken
	for name, v := range map[string]string{"client secret": clientSecret, "access token": access, "refresh token": refresh, "old refresh token": oldRefresh} {
		if len(v) < 16 {
			t.Fatalf("%s %q is too short to be a real secret", name, v)
		}
	}
	grepSecrets(t, b, clientSecret, access, refresh, oldRefresh)

	// Removal revokes the tokens on the instance and forgets the connection.
	if err := b.svc.RemoveConnection(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	_, err = b.svc.ConnectedInstance(ctx, "")
	wantCode(t, err, scorebridge.ENOTFOUND)
	withToken := servicenow.NewClient(b.srv.URL, bearerClient(access))
	if _, _, err := withToken.List(ctx, "incident", servicenow.ListOptions{Limit: 1}); !servicenow.IsUnauthorized(err) {
		t.Fatalf("the removed connection's access token still works: %v", err)
	}
	if _, err := (&servicenow.OAuthConfig{InstanceURL: b.srv.URL, ClientID: c.ClientID, ClientSecret: clientSecret}).Refresh(ctx, servicenow.NewHTTPClient(b.httpOpt), refresh); !servicenow.IsTokenRefused(err) {
		t.Fatalf("the removed connection's refresh token still works: %v", err)
	}
	wantCode(t, b.svc.RemoveConnection(ctx, c.ID), scorebridge.ENOTFOUND)
	grepSecrets(t, b, clientSecret, access, refresh, oldRefresh)
}

// grepSecrets reads the database file (and its WAL) and the logs and fails
// when any secret is found.
func grepSecrets(t *testing.T, b *bundle, secrets ...string) {
	t.Helper()
	var stored strings.Builder
	for _, suffix := range []string{"", "-wal", "-journal"} {
		data, err := os.ReadFile(b.dbPath + suffix)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		stored.Write(data)
	}
	if stored.Len() == 0 {
		t.Fatal("read nothing from the database file")
	}
	logs := b.logs.String()
	if !strings.Contains(logs, "connection authorized") {
		t.Fatalf("the logs were not captured: %q", logs)
	}
	for _, s := range secrets {
		if strings.Contains(stored.String(), s) {
			t.Errorf("a secret (%.6s...) is in the database file in clear", s)
		}
		if strings.Contains(logs, s) {
			t.Errorf("a secret (%.6s...) is in the logs", s)
		}
	}
}
