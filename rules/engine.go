package rules

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/jobs"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// Engine implements scorebridge.RuleService on the rule store.
type Engine struct {
	// Store keeps the rules and writes their runs. Required.
	Store *sqlstore.RuleStore
	// Enqueue queues the ticket jobs in the run's transaction
	// (jobs.Runner.EnqueueTickets). Required to run rules.
	Enqueue sqlstore.EnqueueFunc
	// SLA gives each ticket its due date; optional (no due date without).
	SLA jobs.SLASource
	// Now is the clock. Default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

var _ scorebridge.RuleService = (*Engine)(nil)

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// FindRules returns every rule.
func (e *Engine) FindRules(ctx context.Context) ([]*scorebridge.Rule, error) {
	return e.Store.FindRules(ctx)
}

// FindRuleByID returns ENOTFOUND.
func (e *Engine) FindRuleByID(ctx context.Context, id string) (*scorebridge.Rule, error) {
	return e.Store.FindRuleByID(ctx, id)
}

// CreateRule validates r, gives it an id and stores it.
func (e *Engine) CreateRule(ctx context.Context, r *scorebridge.Rule) error {
	if err := r.Validate(); err != nil {
		return err
	}
	r.ID = newID()
	return e.Store.CreateRule(ctx, r)
}

// UpdateRule validates and replaces r.
func (e *Engine) UpdateRule(ctx context.Context, r *scorebridge.Rule) error {
	if err := r.Validate(); err != nil {
		return err
	}
	return e.Store.UpdateRule(ctx, r)
}

// DeleteRule removes it.
func (e *Engine) DeleteRule(ctx context.Context, id string) error {
	return e.Store.DeleteRule(ctx, id)
}

// PreviewRule returns the tickets a run would make now.
func (e *Engine) PreviewRule(ctx context.Context, id string) (*scorebridge.RulePreview, error) {
	r, err := e.Store.FindRuleByID(ctx, id)
	if err != nil {
		return nil, err
	}
	return e.plan(ctx, r)
}

// RunRule runs the rule now, as the context's user asks.
func (e *Engine) RunRule(ctx context.Context, id string) (*scorebridge.RuleRun, error) {
	r, err := e.Store.FindRuleByID(ctx, id)
	if err != nil {
		return nil, err
	}
	return e.run(ctx, r, scorebridge.TriggerManual)
}

// RunEnabled runs every enabled rule, one after the other: the periodic
// job and the import hook call it. A rule that fails is logged and the
// others still run; the error says how many failed.
func (e *Engine) RunEnabled(ctx context.Context, trigger scorebridge.RuleTrigger) error {
	rs, err := e.Store.FindEnabledRules(ctx)
	if err != nil {
		return err
	}
	ctx = scorebridge.NewContextWithUser(ctx, &scorebridge.User{ID: "rules", Name: "rules"})
	failed := 0
	for _, r := range rs {
		if _, err := e.run(ctx, r, trigger); err != nil {
			failed++
			e.logger().Error("rule run failed", "rule", r.ID, "name", r.Name, "error", err)
		}
	}
	if failed > 0 {
		return fmt.Errorf("rules: %d of %d rules failed to run", failed, len(rs))
	}
	return nil
}

func (e *Engine) logger() *slog.Logger {
	if e.Logger != nil {
		return e.Logger
	}
	return slog.Default()
}

func (e *Engine) run(ctx context.Context, r *scorebridge.Rule, trigger scorebridge.RuleTrigger) (*scorebridge.RuleRun, error) {
	if e.Enqueue == nil {
		return nil, errors.New("rules: the engine has no ticket queue")
	}
	p, err := e.plan(ctx, r)
	if err != nil {
		return nil, err
	}
	run := &scorebridge.RuleRun{Trigger: trigger, Matched: p.Matched, CapHit: p.CapHit}
	tickets := make([]*scorebridge.Ticket, len(p.Tickets))
	for i, rt := range p.Tickets {
		tickets[i] = newTicket(r, rt)
	}
	if err := e.Store.CommitRuleRun(ctx, r, run, tickets, e.Enqueue); err != nil {
		return nil, err
	}
	if run.CapHit {
		e.logger().Warn("rule reached its cap of tickets per run; the rest wait for the next run", "rule", r.ID, "name", r.Name, "cap", r.MaxTicketsPerRun, "matched", run.Matched)
	}
	return run, nil
}

// plan is the one place that decides a run's tickets, so a preview and
// a run agree: the candidates by most points first, one ticket each or
// grouped by MaxGroupedRecommendations, at most the rule's cap.
func (e *Engine) plan(ctx context.Context, r *scorebridge.Rule) (*scorebridge.RulePreview, error) {
	per := 1
	if r.Action.Grouping == scorebridge.RuleGrouped {
		per = scorebridge.MaxGroupedRecommendations
	}
	limit := r.MaxTicketsPerRun*per + 1
	cands, err := e.Store.FindRuleCandidates(ctx, r, limit)
	if err != nil {
		return nil, err
	}
	p := &scorebridge.RulePreview{RuleID: r.ID, Matched: len(cands), Tickets: []*scorebridge.RuleTicket{}}
	if len(cands) == limit {
		p.CapHit = true
		cands = cands[:limit-1]
	}
	var sla *scorebridge.SLA
	if e.SLA != nil && len(cands) > 0 {
		if sla, err = e.SLA.SLA(ctx); err != nil {
			return nil, err
		}
	}
	now := e.now()
	for start := 0; start < len(cands); start += per {
		group := cands[start:min(start+per, len(cands))]
		p.Tickets = append(p.Tickets, ruleTicket(r, group, sla, now))
	}
	return p, nil
}

// ruleTicket is the request for one ticket of a run: named after its
// action (or the rule, for a group), its description naming the rule.
func ruleTicket(r *scorebridge.Rule, group []sqlstore.RuleCandidate, sla *scorebridge.SLA, now time.Time) *scorebridge.RuleTicket {
	t := &scorebridge.RuleTicket{AssignmentGroup: r.Action.AssignmentGroup}
	t.Type, t.ConnectionID = r.Action.TicketType, r.Action.ConnectionID
	intro := "Created by the scorebridge automation rule \"" + r.Name + "\"."
	for _, c := range group {
		t.RecommendationIDs = append(t.RecommendationIDs, c.ID)
		t.ScoreImpact = max(t.ScoreImpact, c.Impact)
	}
	if len(group) == 1 {
		t.Name = truncate(group[0].Title, scorebridge.MaxTicketNameLength)
		t.Description = truncate(intro+"\n\n"+group[0].Description, scorebridge.MaxTicketDescriptionLength)
	} else {
		t.Name = truncate(fmt.Sprintf("%s: %d security improvement actions", r.Name, len(group)), scorebridge.MaxTicketNameLength)
		t.Description = intro
	}
	t.Priority = r.Action.PriorityFor(t.ScoreImpact)
	if sla != nil {
		t.DueDate = sla.DueDate(t.Priority, now)
	}
	t.Actions = make([]scorebridge.TicketAction, len(group))
	for i, c := range group {
		t.Actions[i] = scorebridge.TicketAction{ID: c.ID, Title: c.Title, Source: c.Source, Category: c.Category, Remediation: jobs.PlainText(c.Remediation)}
	}
	return t
}

// newTicket is the stored ticket of a planned one; RequestedBy names the
// rule, so the center, the audit log and the description all say it.
func newTicket(r *scorebridge.Rule, rt *scorebridge.RuleTicket) *scorebridge.Ticket {
	return &scorebridge.Ticket{
		ID: newID(), RecommendationIDs: rt.RecommendationIDs, Type: rt.Type, ConnectionID: rt.ConnectionID,
		Name: rt.Name, Description: rt.Description, Priority: rt.Priority, DueDate: rt.DueDate,
		Actions: rt.Actions, RequestedBy: RequestedBy(r), AssignmentGroup: rt.AssignmentGroup,
	}
}

// RequestedBy is who a rule's tickets say asked for them.
func RequestedBy(r *scorebridge.Rule) string { return "rule \"" + r.Name + "\"" }

// newID returns 32 random hex digits, like a ticket's id: safe in an
// encoded query as a correlation id.
func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func truncate(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return strings.TrimSpace(s[:pos])
		}
		i++
	}
	return s
}
