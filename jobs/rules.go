package jobs

import (
	"context"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/scorebridge/scorebridge"
)

// QueueRules is the River queue automation rule runs go on, one at a time.
const QueueRules = "rules"

// RunRulesArgs runs every enabled automation rule. The periodic one is
// scheduled by River's leader, so once across replicas; an import queues
// one too. It is unique while it waits, so imports in a burst make one run.
type RunRulesArgs struct {
	Trigger scorebridge.RuleTrigger `json:"trigger"`
}

// Kind names the job in River's table.
func (RunRulesArgs) Kind() string { return "run_rules" }

// InsertOpts puts the run on its queue, once per trigger while it waits.
func (RunRulesArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueRules, MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}}
}

type rulesWorker struct {
	river.WorkerDefaults[RunRulesArgs]
	run func(ctx context.Context, trigger scorebridge.RuleTrigger) error
}

func (w *rulesWorker) Work(ctx context.Context, job *river.Job[RunRulesArgs]) error {
	return w.run(ctx, job.Args.Trigger)
}

// QueueRuleRun queues a run of the enabled rules (after an import): it
// returns once the job is stored, and the run happens on a worker.
func (r *Runner) QueueRuleRun(ctx context.Context, trigger scorebridge.RuleTrigger) error {
	if r.cfg.RunRules == nil {
		return nil
	}
	var err error
	if r.pg != nil {
		_, err = r.pg.Insert(ctx, RunRulesArgs{Trigger: trigger}, nil)
	} else {
		_, err = r.sqlite.Insert(ctx, RunRulesArgs{Trigger: trigger}, nil)
	}
	if err != nil {
		return fmt.Errorf("queue a rule run: %w", err)
	}
	return nil
}
