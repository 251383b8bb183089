package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Job outcomes, as ObserveJob reports them.
const (
	OutcomeOK        = "ok"
	OutcomeSnoozed   = "snoozed"   // asked to wait (rate limit, authorization)
	OutcomeCancelled = "cancelled" // given up for good (a refusal, the last attempt)
	OutcomeError     = "error"     // to be retried
)

// jobObserver is the River middleware that times each attempt of every job
// by kind and outcome, so every kind is measured the same way, whichever
// worker runs it.
type jobObserver struct {
	river.MiddlewareDefaults
	observe func(kind, outcome string, d time.Duration)
}

var _ rivertype.WorkerMiddleware = (*jobObserver)(nil)

func (o *jobObserver) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	start := time.Now()
	err := doInner(ctx)
	outcome := OutcomeOK
	switch {
	case err == nil:
	case errors.As(err, new(*river.JobSnoozeError)):
		outcome = OutcomeSnoozed
	case errors.As(err, new(*river.JobCancelError)):
		outcome = OutcomeCancelled
	default:
		outcome = OutcomeError
	}
	o.observe(job.Kind, outcome, time.Since(start))
	return err
}
