package connection_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/connection"
)

// TestReplicasShareState: two services on one database, as two replicas.
// What one learns (tokens, a refused refresh) the other uses or sees.
func TestReplicasShareState(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	c, pw := b.connected(t)
	other, err := connection.New(connection.Config{Store: b.store, RedirectURL: redirectURL, HTTP: b.httpOpt, Now: b.clock.Now,
		Logger: slog.New(slog.NewTextHandler(b.logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	// The other replica uses the stored token without a refresh of its own.
	before := b.tokenN.Load()
	if _, err := other.ConnectedInstance(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if b.tokenN.Load() != before {
		t.Fatal("the second replica refreshed a token that was still valid")
	}
	// The first replica's cached view is up to date after LookupTTL.
	if _, err := b.svc.ConnectedInstance(ctx, ""); err != nil {
		t.Fatal(err)
	}
	users, _ := b.sim.Query("sys_user", "user_name="+connection.DefaultIntegrationUser)
	b.sim.Update("sys_user", users[0]["sys_id"], map[string]string{"active": "false"})
	b.clock.Advance(31 * time.Minute)
	_, err = other.ConnectedInstance(ctx, "")
	wantCode(t, err, scorebridge.EUNAUTHORIZED)
	_, err = b.svc.ConnectedInstance(ctx, "")
	wantCode(t, err, scorebridge.EUNAUTHORIZED)

	b.sim.Update("sys_user", users[0]["sys_id"], map[string]string{"active": "true"})
	b.authorize(t, c.ID, connection.DefaultIntegrationUser, pw)
	b.clock.Advance(2 * time.Second) // past the other replica's LookupTTL
	if _, err := other.ConnectedInstance(ctx, ""); err != nil {
		t.Fatalf("the other replica does not see the new authorization: %v", err)
	}
}
