package sqlstore_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge/sqlstore"
)

// closeTo reports whether got is within a minute of want: the slots asked
// for are hours apart, so the test's own running time never blurs which slot
// a caller got. Either way: on SQLite each caller reads the clock before its
// statement waits for the writer, so one that read it earlier is told to
// wait a little longer than the interval, measured from its own reading.
func closeTo(got, want time.Duration) bool { return got > want-time.Minute && got < want+time.Minute }

// TestPace_ReplicasShareSlots: two handles on one database, as two
// replicas are, take slots of one connection at once; every slot is one
// interval after the one before, whichever replica took it.
func TestPace_ReplicasShareSlots(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		dsn := b.dsn(t)
		var stores []*sqlstore.PaceStore
		for range 2 {
			db, err := sqlstore.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			stores = append(stores, sqlstore.NewPaceStore(db))
		}
		ctx := context.Background()
		var mu sync.Mutex
		var waits []time.Duration
		var wg sync.WaitGroup
		for i := range 10 {
			wg.Go(func() {
				d, err := stores[i%2].ReservePace(ctx, "c1", time.Hour)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				waits = append(waits, d)
				mu.Unlock()
			})
		}
		wg.Wait()
		slices.Sort(waits)
		for i, d := range waits {
			if !closeTo(d, time.Duration(i)*time.Hour) {
				t.Errorf("slots taken at once wait %v; want 0h, 1h, 2h, ... 9h", waits)
				break
			}
		}

		// Another connection has a pace of its own.
		if d, err := stores[1].ReservePace(ctx, "c2", time.Hour); err != nil || d != 0 {
			t.Errorf("first slot of a second connection: wait %s, %v; want 0", d, err)
		}
	})
}

// TestPace_PauseHoldsEveryReplica: a pause asked through one replica holds
// the other's next slot; an earlier pause does not shorten it.
func TestPace_PauseHoldsEveryReplica(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		dsn := b.dsn(t)
		a, err := sqlstore.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		other, err := sqlstore.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { other.Close() })
		ctx := context.Background()
		pa, po := sqlstore.NewPaceStore(a), sqlstore.NewPaceStore(other)
		if err := pa.PausePace(ctx, "c", 2*time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := pa.PausePace(ctx, "c", time.Hour); err != nil {
			t.Fatal(err)
		}
		for i, want := range []time.Duration{2 * time.Hour, 3 * time.Hour} {
			d, err := po.ReservePace(ctx, "c", time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if !closeTo(d, want) {
				t.Errorf("slot %d after a 2h pause waits %s, want %s", i, d, want)
			}
		}
	})
}

// TestPace_QuietSpellSavesNothing: a slot long past is not a credit: the
// next request leaves now and the one after a full interval later.
func TestPace_QuietSpellSavesNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db, _ := openTest(t, b)
		ctx := context.Background()
		ps := sqlstore.NewPaceStore(db)
		if _, err := ps.ReservePace(ctx, "c", time.Hour); err != nil {
			t.Fatal(err)
		}
		// The last slot was taken a day ago.
		past := `UPDATE servicenow_pace SET next_at = now() - interval '1 day'`
		var args []any
		if b.name == sqlstore.DialectSQLite {
			past = `UPDATE servicenow_pace SET next_at = ?`
			args = []any{time.Now().Add(-24 * time.Hour).UnixMicro()}
		}
		if _, err := db.SQL.ExecContext(ctx, past, args...); err != nil {
			t.Fatal(err)
		}
		for i, want := range []time.Duration{0, time.Hour} {
			d, err := ps.ReservePace(ctx, "c", time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if !closeTo(d, want) {
				t.Errorf("slot %d after a quiet day waits %s, want %s", i, d, want)
			}
		}
	})
}
