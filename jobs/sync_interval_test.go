package jobs_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge/jobs"
)

// The sync interval is asked on every tick: while it is a day long, many
// ticks make one sync; once it is a second, syncs follow each other, with
// no restart.
func TestSyncIntervalHonoured(t *testing.T) {
	var interval atomic.Int64
	interval.Store(int64(24 * time.Hour))
	asked := make(chan struct{}, 100)
	synced := make(chan struct{}, 100)
	var syncs atomic.Int64
	setup(t, setupOpts{config: func(c *jobs.Config) {
		c.SyncTick = 50 * time.Millisecond
		c.SyncEvery = func(context.Context) (time.Duration, error) {
			select {
			case asked <- struct{}{}:
			default:
			}
			return time.Duration(interval.Load()), nil
		}
		c.SyncTickets = func(context.Context) error {
			syncs.Add(1)
			synced <- struct{}{}
			return nil
		}
	}})
	wait := func(ch <-chan struct{}, what string) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(30 * time.Second):
			t.Fatalf("no %s after 30s", what)
		}
	}
	wait(synced, "first sync")
	for range 10 {
		wait(asked, "tick")
	}
	// A tick's insert may still be on its way after it asked; one more
	// round of asks lets it land.
	for range 2 {
		wait(asked, "tick")
	}
	if n := syncs.Load(); n != 1 {
		t.Fatalf("%d syncs within one day-long interval, want 1", n)
	}
	interval.Store(int64(time.Second))
	for range 2 {
		wait(synced, "sync after the interval became a second")
	}
	if n := syncs.Load(); n < 3 {
		t.Fatalf("%d syncs, want at least 3", n)
	}
}
