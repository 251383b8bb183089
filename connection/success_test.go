package connection_test

import (
	"context"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge/servicenow"
)

// A successful call's "last successful call" is stored before the call
// returns: nothing is left writing behind the caller's back, so a caller
// that closes the database right after cannot race a stray write.
func TestSuccessRecordedBeforeTheCallReturns(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	c, _ := b.connected(t)
	// Past the throttle that the authorization's own success started.
	b.clock.Advance(31 * time.Second)
	ci, err := b.svc.ConnectedInstance(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := servicenow.NewClient(ci.BaseURL, ci.HTTPClient).Create(ctx, "incident", map[string]string{"short_description": "Enable MFA"}); err != nil {
		t.Fatal(err)
	}
	got, err := b.store.FindConnectionByID(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.LastSuccessAt == nil || !got.LastSuccessAt.Equal(b.clock.Now()) {
		t.Fatalf("last success = %v right after the call, want %v", got.LastSuccessAt, b.clock.Now())
	}
	// The database closed at once after the call: no write is pending.
	if err := b.db.Close(); err != nil {
		t.Fatal(err)
	}
}
