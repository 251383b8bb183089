package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// The change count moves with every committed write and stays put while
// only reads run: what pages keep under it is good exactly that long.
func TestVersion_MovesWithCommitsOnly(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db, _ := openTest(t, b)
		ctx := context.Background()
		recs := sqlstore.NewRecommendationService(db)
		if err := recs.CreateRecommendation(ctx, newRec("r-1")); err != nil {
			t.Fatal(err)
		}
		before, ok := waitVersionLive(t, db)
		if !ok {
			t.Fatal("the change count is not live")
		}
		for range 3 {
			if _, err := recs.FindRecommendationByID(ctx, "r-1"); err != nil {
				t.Fatal(err)
			}
			if _, _, err := recs.FindRecommendations(ctx, scorebridge.RecommendationFilter{}); err != nil {
				t.Fatal(err)
			}
		}
		if v, _ := db.Version(); v != before {
			t.Fatalf("reads moved the change count from %d to %d", before, v)
		}
		if err := recs.CreateRecommendation(ctx, newRec("r-2")); err != nil {
			t.Fatal(err)
		}
		// This process's own commit moves it at once, not when the
		// notification comes back.
		if v, _ := db.Version(); v == before {
			t.Fatal("a commit left the change count as it was")
		}
	})
}

// A change committed by another process (another replica on PostgreSQL;
// the token or user command on a SQLite file) moves this handle's count:
// on PostgreSQL when its notification arrives, on SQLite at the next ask.
// A page kept here is then not served stale.
func TestVersion_OtherProcessesChange(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		here, there := openTwice(t, b)
		before, ok := waitVersionLive(t, here)
		if !ok {
			t.Fatal("the change count is not live")
		}
		if v, _ := here.Version(); v != before {
			t.Fatalf("the count moved from %d to %d with no change", before, v)
		}
		if err := sqlstore.NewRecommendationService(there).CreateRecommendation(ctx, newRec("r-1")); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			v, ok := here.Version()
			if ok && v != before {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the other handle's commit was not seen in 30s (count %d, live %v)", v, ok)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// waitVersionLive asks for the count until it can be trusted (on
// PostgreSQL the listener connects on the first ask) and returns it.
func waitVersionLive(t *testing.T, db *sqlstore.DB) (uint64, bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		v, ok := db.Version()
		if ok || time.Now().After(deadline) {
			return v, ok
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// openTwice opens one fresh database through two handles, as two
// processes would.
func openTwice(t *testing.T, b backend) (*sqlstore.DB, *sqlstore.DB) {
	t.Helper()
	dsn := b.dsn(t)
	open := func() *sqlstore.DB {
		db, err := sqlstore.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	return open(), open()
}
