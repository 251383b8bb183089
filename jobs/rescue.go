package jobs

import (
	"context"
	"log/slog"
	"time"
)

// Rescue of the jobs a replica that died left running. On PostgreSQL every
// replica writes a heartbeat each fifth of its lease (lease.go) and looks,
// every rescueInterval, for running jobs whose replica's heartbeat is older
// than the rescue horizon: those are worked again at once, not after
// River's rescuer (kept as the backstop), which waits past the job's
// timeout and looks only every 30 seconds. On SQLite one center runs on a
// file, so at start every job still running belongs to a process that is
// gone, and is worked again at once.
const (
	// rescueInterval is how often each replica looks for jobs to rescue:
	// one indexed UPDATE that finds nothing almost always.
	rescueInterval = 2 * time.Second
	// rescueMargin is added to the horizon for what the lease cannot
	// bound exactly: a timer late on a busy machine, a job's last database
	// writes after its request ended.
	rescueMargin = 3 * time.Second
	// forgetReplicasAfter is how long the heartbeat of a replica that
	// stopped is kept: long past any rescue, short enough that the rows of
	// killed replicas do not pile up.
	forgetReplicasAfter = time.Hour
)

// jobRescuer is what rescuing needs from the database
// (sqlstore.ReplicaStore).
type jobRescuer interface {
	RescueJobs(ctx context.Context, horizon time.Duration) (map[string]int, error)
	ForgetReplicas(ctx context.Context, silence time.Duration) error
}

// rescueHorizon is how old a replica's last heartbeat must be before its
// running jobs are taken over. By then it stopped working them: its lease
// lapsed leaseLapse after that heartbeat was sent, cancelling their
// contexts, and a request to the instance already under way ended by
// requestTimeout. With the defaults, 5 + 10 + 3 = 18 seconds.
func rescueHorizon(leaseLapse, requestTimeout time.Duration) time.Duration {
	return leaseLapse + requestTimeout + rescueMargin
}

// RescueHorizon is how long after a replica's last heartbeat the jobs it
// left running are worked again by another (PostgreSQL).
func (r *Runner) RescueHorizon() time.Duration {
	return rescueHorizon(r.cfg.LeaseLapse, r.cfg.RequestTimeout)
}

// rescueLoop rescues every rescueInterval until ctx ends.
func rescueLoop(ctx context.Context, store jobRescuer, horizon time.Duration, logger *slog.Logger) {
	tick := time.NewTicker(rescueInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		rescued, err := store.RescueJobs(ctx, horizon)
		if err != nil {
			if ctx.Err() == nil {
				logger.Warn("rescue of dead replicas' jobs failed; will look again", "error", err)
			}
			continue
		}
		logRescued(logger, rescued, "its heartbeat stopped "+horizon.String()+" ago or more")
		if err := store.ForgetReplicas(ctx, forgetReplicasAfter); err != nil && ctx.Err() == nil {
			logger.Warn("silent replicas not forgotten", "error", err)
		}
	}
}

// logRescued tells of the jobs rescued from each replica, and why.
func logRescued(logger *slog.Logger, rescued map[string]int, why string) {
	for replica, n := range rescued {
		logger.Info("running jobs of a dead replica rescued: worked again now", "replica", replica, "jobs", n, "because", why)
	}
}
