package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// unfinishedStates are the states of a job not yet done: a job unique by
// them is inserted once while one waits, runs or retries, and again once
// it has finished.
var unfinishedStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled,
}

// QueueNotify is the River queue notification deliveries run on.
const QueueNotify = "notify"

// NotificationDeliverer sends what package notify gathered (notify.Service).
type NotificationDeliverer interface {
	// Deliver sends a target's group (groupID) or its digest of a period
	// (groupID 0); an error is retried with backoff.
	Deliver(ctx context.Context, targetID string, groupID int64, period time.Time) error
	// Sweep schedules every due group not yet sent.
	Sweep(ctx context.Context) error
}

// DeliverNotificationArgs is one delivery: one immediate group, or one
// target's digest of one period. It is unique by its arguments while it
// waits, runs or retries, so scheduling it twice sends once.
type DeliverNotificationArgs struct {
	TargetID string    `json:"targetId"`
	GroupID  int64     `json:"groupId,omitempty"`
	Period   time.Time `json:"period,omitempty"`
}

// Kind names the job in River's table.
func (DeliverNotificationArgs) Kind() string { return "notification_deliver" }

// notifyAttempts is how often a delivery is tried before the job gives up;
// with the backoff capped at MaxBackoff that is well over an hour, and the
// sweep schedules a given-up group again, so a target that comes back gets
// its messages.
const notifyAttempts = 20

// InsertOpts puts the job on its queue, once per arguments.
func (DeliverNotificationArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueNotify, MaxAttempts: notifyAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: unfinishedStates}}
}

type notifyWorker struct {
	river.WorkerDefaults[DeliverNotificationArgs]
	deliverer NotificationDeliverer
}

func (w *notifyWorker) Timeout(*river.Job[DeliverNotificationArgs]) time.Duration { return time.Minute }

func (w *notifyWorker) Work(ctx context.Context, job *river.Job[DeliverNotificationArgs]) error {
	return w.deliverer.Deliver(ctx, job.Args.TargetID, job.Args.GroupID, job.Args.Period)
}

// SweepNotificationsArgs is the periodic job that schedules due groups a
// lost enqueue or a given-up job left unsent.
type SweepNotificationsArgs struct{}

// Kind names the job in River's table.
func (SweepNotificationsArgs) Kind() string { return "notification_sweep" }

// InsertOpts puts the job on the notify queue, once while it waits.
func (SweepNotificationsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueNotify, MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: unfinishedStates}}
}

type sweepWorker struct {
	river.WorkerDefaults[SweepNotificationsArgs]
	deliverer NotificationDeliverer
}

func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[SweepNotificationsArgs]) error {
	return w.deliverer.Sweep(ctx)
}

func addNotify(workers *river.Workers, rc *river.Config, cfg Config) error {
	if err := river.AddWorkerSafely(workers, &notifyWorker{deliverer: cfg.Notifications}); err != nil {
		return fmt.Errorf("jobs: %w", err)
	}
	if err := river.AddWorkerSafely(workers, &sweepWorker{deliverer: cfg.Notifications}); err != nil {
		return fmt.Errorf("jobs: %w", err)
	}
	rc.Queues[QueueNotify] = river.QueueConfig{MaxWorkers: 4}
	rc.PeriodicJobs = append(rc.PeriodicJobs, river.NewPeriodicJob(river.PeriodicInterval(cfg.NotifySweepInterval),
		func() (river.JobArgs, *river.InsertOpts) { return SweepNotificationsArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true}))
	return nil
}

// EnqueueNotification schedules a delivery at at (notify.Queue).
func (r *Runner) EnqueueNotification(ctx context.Context, targetID string, groupID int64, period, at time.Time) error {
	args := DeliverNotificationArgs{TargetID: targetID, GroupID: groupID, Period: period.UTC()}
	opts := args.InsertOpts()
	if at.After(time.Now()) {
		opts.ScheduledAt = at
	}
	var err error
	if r.pg != nil {
		_, err = r.pg.Insert(ctx, args, &opts)
	} else {
		_, err = r.sqlite.Insert(ctx, args, &opts)
	}
	if err != nil {
		return fmt.Errorf("queue notification delivery: %w", err)
	}
	return nil
}
