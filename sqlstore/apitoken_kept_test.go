package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/internal/clocktest"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// A token kept for authenticating is refused as soon as it is revoked,
// here or by another process on the same database (the token command on a
// SQLite file, another replica on PostgreSQL), and its uses are still
// recorded.
func TestAPIToken_KeptUntilRevoked(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := scorebridge.NewContextWithUser(context.Background(), &scorebridge.User{Name: "alice"})
		here, there := openTwice(t, b)
		// Here the clock stands still, so a kept token never goes stale
		// by age: only the revocation can end it.
		here.Now = clocktest.New(time.Now().UTC()).Now
		if _, ok := waitVersionLive(t, here); !ok {
			t.Fatal("the change count is not live")
		}
		s := sqlstore.NewAPITokenStore(here)
		tok := &scorebridge.APIToken{Name: "scraper", Role: scorebridge.RoleReader}
		secret, err := s.CreateAPIToken(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			got, err := s.AuthenticateAPIToken(ctx, secret)
			if err != nil || got.ID != tok.ID {
				t.Fatalf("use %d: %+v, %v", i, got, err)
			}
			if i > 0 && got.LastUsedAt == nil {
				t.Fatalf("use %d does not report the first", i)
			}
		}
		all, err := sqlstore.NewAPITokenStore(there).FindAPITokens(ctx)
		if err != nil || len(all) != 1 || all[0].LastUsedAt == nil {
			t.Fatalf("the use is not recorded: %+v, %v", all, err)
		}

		if err := sqlstore.NewAPITokenStore(there).RevokeAPIToken(ctx, tok.ID); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			_, err := s.AuthenticateAPIToken(ctx, secret)
			if scorebridge.ErrorCode(err) == scorebridge.EUNAUTHORIZED {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("a token revoked by another process still authenticates after 30s: %v", err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}
