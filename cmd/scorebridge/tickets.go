package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/jobs"
	"github.com/scorebridge/scorebridge/posture"
	"github.com/scorebridge/scorebridge/rules"
	"github.com/scorebridge/scorebridge/sqlstore"
	"github.com/scorebridge/scorebridge/tracking"
)

// ticketConfig is the part of the center's configuration about sending
// tickets to ServiceNow.
type ticketConfig struct {
	// RequestsPerSecond paces calls to each instance so its rate limit is
	// not overrun; negative turns pacing off, zero means the jobs'
	// default.
	RequestsPerSecond float64
}

// openTickets prepares the job runner that sends tickets (River's tables
// are migrated here); Run starts it.
func (c *center) openTickets(ctx context.Context, cfg centerConfig, instances scorebridge.InstanceSource) error {
	finder, _ := instances.(jobs.ConnectionFinder)
	box, err := cfg.Connections.loadKey(cfg.DB, c.logger)
	if err != nil {
		return err
	}
	c.settings = sqlstore.NewSettingsStore(c.db)
	c.sla = sqlstore.NewSLAStore(c.db)
	c.rules = &rules.Engine{Store: sqlstore.NewRuleStore(c.db), SLA: c.sla, Logger: c.logger}
	r, err := jobs.New(ctx, jobs.Config{
		// c.tracking is set below, before the runner starts.
		SyncTickets: func(ctx context.Context) error { return c.tracking.SyncAll(ctx) },
		SyncEvery: func(ctx context.Context) (time.Duration, error) {
			st, err := c.settings.Settings(ctx)
			return st.SyncInterval(), err
		},
		DB:                c.db,
		Instances:         instances,
		Connections:       finder,
		Recommendations:   c.recs,
		Logger:            c.logger,
		RequestsPerSecond: cfg.Tickets.RequestsPerSecond,
		CenterURL:         c.publicURL(cfg),
		Posture:           c.posture,
		SLA:               c.sla,
		RunRules:          c.rules.RunEnabled,
		SnapshotScore: func(ctx context.Context) error {
			_, err := c.scores.SnapshotScore(ctx)
			return err
		},
		ObserveJob:    c.metrics.ObserveJob,
		Notifications: c.notify,
		Notifier:      c.notify,
	})
	if err != nil {
		return fmt.Errorf("ticket jobs: %w", err)
	}
	c.drift = r.Drift()
	c.tracking, err = tracking.New(tracking.Config{
		Settings:        c.settings,
		Store:           sqlstore.NewTrackingStore(c.db, box),
		Drift:           sqlstore.NewDriftStore(c.db),
		Actions:         c.drift,
		Instances:       instances,
		Recommendations: c.recs,
		Connections:     c.conns,
		Logger:          c.logger,
	})
	if err != nil {
		return fmt.Errorf("ticket tracking: %w", err)
	}
	// A person completing an action resolves its open ticket (when the
	// setting is on); an import that regresses a control whose ticket
	// closed follows the drift policy.
	c.recs = &tracking.ResolvingRecommendations{RecommendationService: c.recs, Tracking: c.tracking}
	// Each drift found is told to the notification targets, once.
	if c.notify != nil {
		c.tracking.AddDriftListener(tracking.DriftNotifier{Notifier: c.notify, CenterURL: c.publicURL(cfg), Logger: c.logger})
	}
	if c.posture != nil {
		c.posture.Importer.Store = &followingImports{Store: c.posture.Importer.Store, tracking: c.tracking, logger: c.logger}
	}
	c.rules.Enqueue = r.EnqueueTickets
	if c.posture != nil {
		c.posture.Importer.Store = &ruleRunningImports{Store: c.posture.Importer.Store, jobs: r, logger: c.logger}
	}
	c.jobs = r
	c.notify.Queue = r
	// Re-authorizing a connection wakes the tickets waiting for it.
	c.conns.OnAuthorized(r.WakeConnection)
	return nil
}

// startTickets starts sending queued tickets.
func (c *center) startTickets(ctx context.Context) error {
	if err := c.jobs.Start(ctx); err != nil {
		return fmt.Errorf("start ticket jobs: %w", err)
	}
	return nil
}

// stopTickets lets running ticket jobs finish within ctx; those cut short
// are sent again on the next start.
func (c *center) stopTickets(ctx context.Context) error {
	return c.jobs.Stop(ctx)
}

// publicURL is where a ServiceNow user reaches the center from a ticket's
// link: the configured public URL, else the address bound.
func (c *center) publicURL(cfg centerConfig) string {
	if u := strings.TrimRight(cfg.Connections.PublicURL, "/"); u != "" {
		return u
	}
	return "http://" + c.ln.Addr().String()
}

// followingImports is the posture store whose every import is followed:
// the actions it completed resolve their open tickets (resolve-on-completed)
// and the controls it regressed after their ticket finished follow the
// drift policy.
type followingImports struct {
	posture.Store
	tracking *tracking.Service
	logger   *slog.Logger
}

func (f *followingImports) ApplyImport(ctx context.Context, src *scorebridge.PostureSource, b *scorebridge.ImportBatch,
	audit func(*scorebridge.PostureSource, *scorebridge.Import) *scorebridge.AuditEvent) (*scorebridge.Import, error) {
	mark := f.tracking.ImportMark(ctx)
	imp, err := f.Store.ApplyImport(ctx, src, b, audit)
	if err == nil {
		if ferr := f.tracking.ImportApplied(ctx, mark, imp.Regressed > 0); ferr != nil {
			// Regressions are followed by the next sync too.
			f.logger.Error("an import's completions and regressions not followed", "error", ferr)
		}
	}
	return imp, err
}
