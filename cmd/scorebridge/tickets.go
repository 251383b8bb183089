package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/jobs"
)

// ticketConfig is the part of the center's configuration about sending
// tickets to ServiceNow.
type ticketConfig struct {
	// RequestsPerSecond paces calls to each instance so its rate limit is
	// not overrun. Default 20 (SCOREBRIDGE_SERVICENOW_RPS); negative turns
	// pacing off.
	RequestsPerSecond float64
}

func (c *ticketConfig) register(fs *flag.FlagSet, getenv func(string) string) {
	def := 20.0
	if v, err := strconv.ParseFloat(getenv("SCOREBRIDGE_SERVICENOW_RPS"), 64); err == nil {
		def = v
	}
	fs.Float64Var(&c.RequestsPerSecond, "servicenow-rps", def, "requests per second sent to each ServiceNow instance (env SCOREBRIDGE_SERVICENOW_RPS)")
}

// openTickets prepares the job runner that sends tickets (River's tables
// are migrated here); Run starts it.
func (c *center) openTickets(ctx context.Context, cfg centerConfig, instances scorebridge.InstanceSource) error {
	r, err := jobs.New(ctx, jobs.Config{
		DB:                c.db,
		Instances:         instances,
		Recommendations:   c.recs,
		Logger:            c.logger,
		RequestsPerSecond: cfg.Tickets.RequestsPerSecond,
		CenterURL:         c.publicURL(cfg),
	})
	if err != nil {
		return fmt.Errorf("ticket jobs: %w", err)
	}
	c.jobs = r
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
