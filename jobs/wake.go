package jobs

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/scorebridge/scorebridge"
)

// WakeConnection makes the tickets waiting for a connection to be
// authorized again due at once, when it has been (the connection service
// calls it): they were snoozed for AuthorizationWait and would otherwise
// sleep out the rest of it. It goes through River's JobRetry on the jobs in
// the database, so it wakes the tickets whichever replica holds them. A job
// running at the moment is not touched; it looks again after its own wait.
func (r *Runner) WakeConnection(ctx context.Context, connectionID string) error {
	waiting := map[string]bool{}
	filter := scorebridge.TicketFilter{Status: scorebridge.TicketQueued, ConnectionID: connectionID, Limit: scorebridge.MaxTicketPage}
	for {
		page, next, err := r.store.FindTicketPage(ctx, filter)
		if err != nil {
			return fmt.Errorf("find tickets waiting for connection %s: %w", connectionID, err)
		}
		for _, t := range page {
			if t.Error == authorizationWaitReason {
				waiting[t.ID] = true
			}
		}
		if next == "" {
			break
		}
		filter.Cursor = next
	}
	if len(waiting) == 0 {
		return nil
	}
	var n int
	var err error
	if r.pg != nil {
		n, err = wakeJobs(ctx, r.pg, waiting)
	} else {
		n, err = wakeJobs(ctx, r.sqlite, waiting)
	}
	if err != nil {
		return fmt.Errorf("wake tickets waiting for connection %s: %w", connectionID, err)
	}
	r.cfg.Logger.Info("connection authorized: waiting tickets resume", "connection", connectionID, "tickets", n)
	return nil
}

// wakeJobs retries the snoozed ticket jobs of the waiting tickets and
// returns how many it woke.
func wakeJobs[TTx any](ctx context.Context, c *river.Client[TTx], waiting map[string]bool) (int, error) {
	params := river.NewJobListParams().Kinds(CreateTicketArgs{}.Kind()).States(rivertype.JobStateScheduled).First(1000)
	woken := 0
	for {
		res, err := c.JobList(ctx, params)
		if err != nil {
			return woken, err
		}
		for _, j := range res.Jobs {
			var args CreateTicketArgs
			if json.Unmarshal(j.EncodedArgs, &args) != nil || !waiting[args.TicketID] {
				continue
			}
			if _, err := c.JobRetry(ctx, j.ID); err != nil {
				return woken, err
			}
			woken++
		}
		if len(res.Jobs) < 1000 || res.LastCursor == nil {
			return woken, nil
		}
		params = params.After(res.LastCursor)
	}
}
