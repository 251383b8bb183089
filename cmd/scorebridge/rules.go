package main

import (
	"context"
	"log/slog"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/jobs"
	"github.com/scorebridge/scorebridge/posture"
)

// ruleRunningImports is the posture store whose every completed import
// queues a run of the enabled automation rules (a durable job, so the
// import never waits on the rules, and a burst of imports makes one run).
type ruleRunningImports struct {
	posture.Store
	jobs   *jobs.Runner
	logger *slog.Logger
}

func (f *ruleRunningImports) ApplyImport(ctx context.Context, src *scorebridge.PostureSource, b *scorebridge.ImportBatch,
	audit func(*scorebridge.PostureSource, *scorebridge.Import) *scorebridge.AuditEvent) (*scorebridge.Import, error) {
	imp, err := f.Store.ApplyImport(ctx, src, b, audit)
	if err == nil {
		if qerr := f.jobs.QueueRuleRun(context.WithoutCancel(ctx), scorebridge.TriggerImport); qerr != nil {
			// The scheduled run still comes within the hour.
			f.logger.Error("rule run after an import not queued", "source", src.ID, "error", qerr)
		}
	}
	return imp, err
}
