package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
)

// QueueScores is the River queue the score snapshot runs on.
const QueueScores = "scores"

// SnapshotScoreArgs is the periodic job that stores today's score for the
// history. River's leader schedules it, so with several replicas each run
// happens once across them; it is unique per hour besides, so a change of
// leader (which runs it on start) does not take a second one.
type SnapshotScoreArgs struct{}

// Kind names the job in River's table.
func (SnapshotScoreArgs) Kind() string { return "score_snapshot" }

// InsertOpts puts the job on its queue, once an hour.
func (SnapshotScoreArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueScores, MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByPeriod: time.Hour}}
}

type snapshotWorker struct {
	river.WorkerDefaults[SnapshotScoreArgs]
	snapshot func(context.Context) error
}

// Timeout bounds a snapshot: one read of the actions and one write.
func (w *snapshotWorker) Timeout(*river.Job[SnapshotScoreArgs]) time.Duration { return time.Minute }

// Work takes one snapshot; it replaces the same UTC day's, so the last one
// of a day is what the history shows.
func (w *snapshotWorker) Work(ctx context.Context, _ *river.Job[SnapshotScoreArgs]) error {
	return w.snapshot(ctx)
}

// addSnapshot registers the snapshot worker, its queue and its periodic job.
func addSnapshot(workers *river.Workers, rc *river.Config, cfg Config) error {
	if err := river.AddWorkerSafely(workers, &snapshotWorker{snapshot: cfg.SnapshotScore}); err != nil {
		return fmt.Errorf("jobs: %w", err)
	}
	rc.Queues[QueueScores] = river.QueueConfig{MaxWorkers: 1}
	rc.PeriodicJobs = append(rc.PeriodicJobs, river.NewPeriodicJob(river.PeriodicInterval(cfg.SnapshotInterval),
		func() (river.JobArgs, *river.InsertOpts) { return SnapshotScoreArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true}))
	return nil
}
