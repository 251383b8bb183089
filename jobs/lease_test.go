package jobs

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// beats is a heartbeater whose writes fail while failing is set; each
// write that succeeds is told on ok.
type beats struct {
	mu      sync.Mutex
	failing bool
	ok      chan struct{}
}

func (b *beats) Beat(ctx context.Context, replica string) error {
	b.mu.Lock()
	failing := b.failing
	b.mu.Unlock()
	if failing {
		return errors.New("database unreachable")
	}
	select {
	case b.ok <- struct{}{}:
	default:
	}
	return nil
}

func (b *beats) set(failing bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failing = failing
}

// While heartbeats succeed a running job keeps its context; once they
// fail, its context is cancelled after the lease lapses, no job starts
// while it has, and jobs run again once a heartbeat succeeds.
func TestLease_FailingHeartbeatsCancelRunningJobs(t *testing.T) {
	t.Parallel()
	const every, lapse = 10 * time.Millisecond, 200 * time.Millisecond
	hb := &beats{ok: make(chan struct{})}
	l := newLease(hb, "r1", every, lapse, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	l.renew(ctx)
	go l.run(ctx)
	wait := func(c <-chan struct{}, what string) {
		t.Helper()
		select {
		case <-c:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: not within 10s", what)
		}
	}

	started, done := make(chan struct{}), make(chan struct{})
	var cause, returned error
	go func() {
		defer close(done)
		returned = l.Work(ctx, &rivertype.JobRow{}, func(ctx context.Context) error {
			close(started)
			<-ctx.Done()
			cause = context.Cause(ctx)
			return ctx.Err()
		})
	}()
	wait(started, "the job started")
	// Heartbeats covering twice the lease: the job keeps running.
	for range 2 * lapse / every {
		wait(hb.ok, "a heartbeat")
	}
	select {
	case <-done:
		t.Fatalf("job ended while heartbeats succeed: %v", returned)
	default:
	}

	hb.set(true)
	wait(done, "the job's context cancelled after the lease lapsed")
	if !errors.Is(cause, errLeaseLapsed) || !errors.Is(returned, errLeaseLapsed) || !errors.Is(returned, context.Canceled) {
		t.Fatalf("cause %v, returned %v; want the lease's lapse", cause, returned)
	}
	ran := false
	err := l.Work(ctx, &rivertype.JobRow{}, func(context.Context) error { ran = true; return nil })
	if ran || !errors.As(err, new(*river.JobSnoozeError)) {
		t.Fatalf("job with the lease lapsed: ran %v, returned %v; want it snoozed unrun", ran, err)
	}

	hb.set(false)
	for l.current() == nil {
		wait(hb.ok, "a heartbeat after the failures")
	}
	if err := l.Work(ctx, &rivertype.JobRow{}, func(context.Context) error { ran = true; return nil }); err != nil || !ran {
		t.Fatalf("job with the lease held again: ran %v, returned %v", ran, err)
	}
}
