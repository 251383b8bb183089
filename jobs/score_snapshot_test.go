package jobs_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/scorebridge/scorebridge/internal/dbtest"
	"github.com/scorebridge/scorebridge/jobs"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// Two replicas on one PostgreSQL database take the day's score snapshot
// once between them: it is a periodic job River's leader schedules, not a
// loop in each process.
func TestSnapshot_OnceAcrossReplicas(t *testing.T) {
	dsn := dbtest.PostgresURL()
	if dsn == "" {
		t.Skip("SCOREBRIDGE_TEST_POSTGRES is not set")
	}
	t.Parallel()
	var runs atomic.Int64
	snapshot := func(db *sqlstore.DB) func(context.Context) error {
		scores := sqlstore.NewScoreService(db)
		return func(ctx context.Context) error {
			runs.Add(1)
			_, err := scores.SnapshotScore(ctx)
			return err
		}
	}
	b := setup(t, setupOpts{dsn: dbtest.PostgresSchema(t, dsn, "jobs"), noStart: true})
	b.cfg.SnapshotScore = snapshot(b.db)
	first, err := jobs.New(b.ctx, b.cfg)
	if err != nil {
		t.Fatal(err)
	}
	events, stop := first.Subscribe(river.EventKindJobCompleted)
	defer stop()
	if err := first.Start(b.ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { first.Stop(context.Background()) })
	second := b.replica(t, func(c *jobs.Config) { c.SnapshotScore = snapshot(c.DB) })
	otherEvents, otherStop := second.Subscribe(river.EventKindJobCompleted)
	defer otherStop()

	timeout := time.After(30 * time.Second)
	for done := false; !done; {
		var ev *river.Event
		select {
		case ev = <-events:
		case ev = <-otherEvents:
		case <-timeout:
			t.Fatal("no score snapshot after 30s")
		}
		done = ev.Job.Kind == (jobs.SnapshotScoreArgs{}).Kind()
	}
	// Both stopped, with their leader handing over on the way: the one
	// that leads next runs its periodic jobs on start, and must not take a
	// second snapshot in the same hour.
	for _, r := range []*jobs.Runner{first, second} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := r.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
	}
	if n := runs.Load(); n != 1 {
		t.Errorf("%d snapshots taken by two replicas, want 1", n)
	}
	var jobRows, snapshots int
	if err := b.db.SQL.QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'score_snapshot'`).Scan(&jobRows); err != nil {
		t.Fatal(err)
	}
	if err := b.db.SQL.QueryRow(`SELECT count(*) FROM score_snapshots`).Scan(&snapshots); err != nil {
		t.Fatal(err)
	}
	if jobRows != 1 || snapshots != 1 {
		t.Errorf("%d snapshot jobs and %d snapshot rows, want 1 and 1", jobRows, snapshots)
	}
}
