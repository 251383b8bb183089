package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// QueueSync is the River queue the periodic ticket sync runs on.
const QueueSync = "sync"

// SyncTicketsArgs is the periodic job that syncs tickets back from every
// connected instance.
type SyncTicketsArgs struct{}

// Kind implements river.JobArgs.
func (SyncTicketsArgs) Kind() string { return "sync_tickets" }

// InsertOpts keeps at most one sync waiting: a slow instance never piles
// syncs up behind it.
func (SyncTicketsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueSync, MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateScheduled, rivertype.JobStateRetryable,
	}}}
}

type syncWorker struct {
	river.WorkerDefaults[SyncTicketsArgs]
	sync func(context.Context) error
}

// syncTimeout bounds one sync: a long one reads many pages, and River's
// rescuer leaves a running job alone until its timeout has passed.
const syncTimeout = 15 * time.Minute

// Timeout bounds the sync by its own measure, not the ticket job's.
func (w *syncWorker) Timeout(*river.Job[SyncTicketsArgs]) time.Duration { return syncTimeout }

// Work runs one sync. A failure is not retried: the next period resumes
// from the stored watermark.
func (w *syncWorker) Work(ctx context.Context, job *river.Job[SyncTicketsArgs]) error {
	return w.sync(ctx)
}

// addSync registers the sync worker and its periodic job. With a fixed
// interval the job simply runs every SyncInterval. With SyncEvery, the
// leader looks every SyncTick and inserts a sync unique for the period of
// the interval in force: one sync per interval-long window across every
// replica, and a changed interval counts from the next tick.
func addSync(workers *river.Workers, rc *river.Config, cfg Config) error {
	if err := river.AddWorkerSafely(workers, &syncWorker{sync: cfg.SyncTickets}); err != nil {
		return fmt.Errorf("jobs: %w", err)
	}
	if cfg.SyncEvery == nil {
		rc.PeriodicJobs = append(rc.PeriodicJobs, river.NewPeriodicJob(river.PeriodicInterval(cfg.SyncInterval),
			func() (river.JobArgs, *river.InsertOpts) { return SyncTicketsArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}))
		return nil
	}
	rc.PeriodicJobs = append(rc.PeriodicJobs, river.NewPeriodicJob(river.PeriodicInterval(cfg.SyncTick),
		func() (river.JobArgs, *river.InsertOpts) {
			opts := SyncTicketsArgs{}.InsertOpts()
			opts.UniqueOpts = river.UniqueOpts{ByPeriod: syncPeriod(cfg)}
			return SyncTicketsArgs{}, &opts
		},
		&river.PeriodicJobOpts{RunOnStart: true}))
	return nil
}

// syncPeriod asks for the interval in force; a failure to read it keeps
// the configured one, and River's least unique period is a second.
func syncPeriod(cfg Config) time.Duration {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := cfg.SyncEvery(ctx)
	if err != nil || d <= 0 {
		if err != nil {
			cfg.Logger.Warn("sync interval not read; using the configured one", "interval", cfg.SyncInterval, "error", err)
		}
		d = cfg.SyncInterval
	}
	return max(d, time.Second)
}
