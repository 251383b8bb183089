package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// errLeaseLapsed is the cause of a job's context cancelled because this
// replica's heartbeats stopped succeeding.
var errLeaseLapsed = errors.New("this replica's heartbeats failed for longer than its lease: another replica may take the job over")

// newReplicaID names this runner among the replicas: River records it in
// each job's attempted_by, and its heartbeat row carries it. The random
// part keeps two runners of one process (or a reused pid) apart.
func newReplicaID() string {
	host, _ := os.Hostname()
	if host == "" {
		host = "host"
	}
	if len(host) > 60 { // River allows 100 characters
		host = host[:60]
	}
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// heartbeater records that a replica is alive (sqlstore.ReplicaStore).
type heartbeater interface {
	Beat(ctx context.Context, replica string) error
}

// lease is this replica's right to work jobs: held while its heartbeats
// succeed, lapsed lapse after the last one that did. Another replica takes
// a replica's running jobs over only well after its heartbeat went stale
// (rescueHorizon), so a job is never worked by two replicas at once: on
// lapsing, the lease cancels the contexts of the jobs running here, and
// while lapsed it starts none (it is also the River middleware that does
// both).
type lease struct {
	river.MiddlewareDefaults
	beat    heartbeater
	replica string
	every   time.Duration
	lapse   time.Duration
	logger  *slog.Logger

	mu sync.Mutex
	// until is when the lease lapses, on the monotonic clock: lapse after
	// the start of the last heartbeat that succeeded, which is no later
	// than the time the database recorded for it.
	until time.Time
	// held is closed when the lease lapses; nil while it is not held.
	held    chan struct{}
	expiry  *time.Timer
	failing bool // the last heartbeat failed (it is logged once)
}

var _ rivertype.WorkerMiddleware = (*lease)(nil)

func newLease(beat heartbeater, replica string, every, lapse time.Duration, logger *slog.Logger) *lease {
	l := &lease{beat: beat, replica: replica, every: every, lapse: lapse, logger: logger}
	l.expiry = time.AfterFunc(time.Hour, l.expire)
	l.expiry.Stop()
	return l
}

// run writes a heartbeat every l.every until ctx ends.
func (l *lease) run(ctx context.Context) {
	defer l.expiry.Stop()
	tick := time.NewTicker(l.every)
	defer tick.Stop()
	for {
		l.renew(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// renew writes one heartbeat and, when it succeeds in time, extends the
// lease to lapse after the moment it was sent.
func (l *lease) renew(ctx context.Context) {
	sent := time.Now()
	bctx, cancel := context.WithTimeout(ctx, l.lapse)
	err := l.beat.Beat(bctx, l.replica)
	cancel()
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		if ctx.Err() == nil && !l.failing {
			l.logger.Warn("replica heartbeat failed; running jobs are cancelled if none succeeds within the lease",
				"replica", l.replica, "lease", l.lapse, "error", err)
		}
		l.failing = true
		return
	}
	until := sent.Add(l.lapse)
	left := time.Until(until)
	if left <= 0 {
		return // it took the whole lease: too late to extend it
	}
	if l.failing {
		l.logger.Info("replica heartbeat written again", "replica", l.replica)
		l.failing = false
	}
	l.until = until
	if l.held == nil {
		l.held = make(chan struct{})
	}
	l.expiry.Reset(left)
}

// expire lets the lease lapse when its time has come (the expiry timer's
// function; a heartbeat may have extended it meanwhile).
func (l *lease) expire() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lapseLocked()
}

func (l *lease) lapseLocked() {
	if l.held == nil || time.Now().Before(l.until) {
		return
	}
	close(l.held)
	l.held = nil
	l.logger.Warn("replica lease lapsed: running jobs cancelled, none started until a heartbeat succeeds",
		"replica", l.replica, "lease", l.lapse)
}

// current returns the channel closed when the lease lapses, nil when it is
// not held now. It looks at the clock itself, so a process that was paused
// past its lease does not start a job before the expiry timer has run.
func (l *lease) current() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lapseLocked()
	return l.held
}

// Work runs a job with a context cancelled when the lease lapses, and
// starts none while it has: the job is snoozed, without costing an
// attempt, for whichever replica holds its lease.
func (l *lease) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	held := l.current()
	if held == nil {
		return river.JobSnooze(l.every)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		select {
		case <-held:
			cancel(errLeaseLapsed)
		case <-ctx.Done():
		}
	}()
	err := doInner(ctx)
	if err != nil && errors.Is(context.Cause(ctx), errLeaseLapsed) &&
		!errors.As(err, new(*river.JobSnoozeError)) && !errors.As(err, new(*river.JobCancelError)) {
		return fmt.Errorf("%w: %w", errLeaseLapsed, err)
	}
	return err
}
