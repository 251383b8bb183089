package scorebridge

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// RuleConditions select the improvement actions a rule makes tickets for.
// Every condition given must hold (and); a list holds when the action's
// value is one of it (or). Zero values do not filter. Retired actions and
// actions with an open ticket are never selected.
type RuleConditions struct {
	Categories []Category `json:"categories,omitempty"`
	Sources    []Source   `json:"sources,omitempty"`
	// Services and Tiers are the source's own words (Graph's service and
	// tier), compared exactly.
	Services []string `json:"services,omitempty"`
	Tiers    []string `json:"tiers,omitempty"`
	// MinScoreImpact selects actions whose points still to win are at
	// least this many.
	MinScoreImpact float64 `json:"minScoreImpact,omitempty"`
	States         []State `json:"states,omitempty"`
	// NewSinceLastImport selects actions their source's latest import
	// added.
	NewSinceLastImport bool `json:"newSinceLastImport,omitempty"`
	// Regressed selects controls that were achieved and no longer are;
	// the rule acts once per regression.
	Regressed bool `json:"regressed,omitempty"`
	// Drift selects actions whose ticket finished without the control;
	// the rule acts once per drift.
	Drift bool `json:"drift,omitempty"`
}

// RuleGrouping says how many tickets a run makes.
type RuleGrouping string

const (
	RuleEach    RuleGrouping = "each"    // one ticket per action
	RuleGrouped RuleGrouping = "grouped" // one ticket per run (per MaxGroupedRecommendations actions)
)

// RuleGroupings lists the groupings.
var RuleGroupings = []RuleGrouping{RuleEach, RuleGrouped}

// PriorityThreshold gives Priority to actions of at least MinScoreImpact
// points.
type PriorityThreshold struct {
	MinScoreImpact float64 `json:"minScoreImpact"`
	Priority       int     `json:"priority"`
}

// RuleAction is the ticket a rule makes.
type RuleAction struct {
	TicketType TicketType   `json:"ticketType"`
	Grouping   RuleGrouping `json:"grouping"`
	// Priority is the ticket's priority when no threshold applies.
	Priority int `json:"priority"`
	// PriorityByImpact maps score impact to priority: the first threshold
	// (highest MinScoreImpact first) the action reaches gives its
	// priority; a grouped ticket takes its largest action's.
	PriorityByImpact []PriorityThreshold `json:"priorityByImpact,omitempty"`
	// AssignmentGroup is the sys_id of the sys_user_group the ticket is
	// assigned to, or "" for none.
	AssignmentGroup string `json:"assignmentGroup,omitempty"`
	// ConnectionID names the instance; "" for the default one.
	ConnectionID string `json:"connectionId,omitempty"`
}

// PriorityFor returns the priority of an action (or group) with impact
// points still to win.
func (a RuleAction) PriorityFor(impact float64) int {
	best := -1.0
	p := a.Priority
	for _, t := range a.PriorityByImpact {
		if impact >= t.MinScoreImpact && t.MinScoreImpact > best {
			best, p = t.MinScoreImpact, t.Priority
		}
	}
	return p
}

// Rule is an automation rule: tickets for the actions its conditions
// select, made after every import and on a schedule while it is enabled.
type Rule struct {
	ID         string         `json:"id"`
	Name       string         `json:"name"`
	Enabled    bool           `json:"enabled"`
	Conditions RuleConditions `json:"conditions"`
	Action     RuleAction     `json:"action"`
	// MaxTicketsPerRun caps the tickets one run makes; the run says when
	// it was reached and the rest wait for the next run.
	MaxTicketsPerRun int `json:"maxTicketsPerRun"`

	CreatedBy string    `json:"createdBy"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedBy string    `json:"updatedBy"`
	UpdatedAt time.Time `json:"updatedAt"`
	// LastRun is the latest run, nil before the first.
	LastRun *RuleRun `json:"lastRun,omitempty"`
}

// Rule limits.
const (
	MaxRuleNameLength = 100
	// MaxRuleTicketsPerRun bounds a rule's cap: more tickets than this in
	// one run is a flood, not policy.
	MaxRuleTicketsPerRun = 500
	// DefaultRuleTicketsPerRun is the cap of a rule that names none.
	DefaultRuleTicketsPerRun = 20
	maxRuleListLength        = 50
)

// Validate checks the rule and fills defaults (grouping each, the cap).
// It returns EINVALID naming the first bad field as the API writes it
// ("action.priority", "conditions.categories").
func (r *Rule) Validate() error {
	r.Name = strings.TrimSpace(r.Name)
	if err := validText("name", r.Name, MaxRuleNameLength, true); err != nil {
		return err
	}
	c := &r.Conditions
	if len(c.Categories) > maxRuleListLength || len(c.Sources) > maxRuleListLength || len(c.Services) > maxRuleListLength || len(c.Tiers) > maxRuleListLength || len(c.States) > maxRuleListLength {
		return FieldErrorf("conditions", "a condition lists at most %d values", maxRuleListLength)
	}
	for _, v := range c.Categories {
		if !oneOf(Categories, v) {
			return notOneOf("conditions.categories", Categories, string(v))
		}
	}
	for _, v := range c.Sources {
		if !oneOf(Sources, v) {
			return notOneOf("conditions.sources", Sources, string(v))
		}
	}
	for _, v := range c.States {
		if !oneOf(States, v) {
			return notOneOf("conditions.states", States, string(v))
		}
	}
	for _, v := range append(append([]string(nil), c.Services...), c.Tiers...) {
		if strings.TrimSpace(v) == "" || len(v) > MaxIDLength {
			return FieldErrorf("conditions", "a service or tier must be 1 to %d characters (got %q)", MaxIDLength, v)
		}
	}
	if c.MinScoreImpact < 0 || c.MinScoreImpact > 1e6 {
		return FieldErrorf("conditions.minScoreImpact", "minScoreImpact must be a number of points from 0 (got %g)", c.MinScoreImpact)
	}
	a := &r.Action
	if !a.TicketType.Valid() {
		return FieldErrorf("action.ticketType", "ticketType must be \"incident\", \"change\" or \"problem\" (got %q)", a.TicketType)
	}
	if a.Grouping == "" {
		a.Grouping = RuleEach
	}
	if !oneOf(RuleGroupings, a.Grouping) {
		return notOneOf("action.grouping", RuleGroupings, string(a.Grouping))
	}
	max := a.TicketType.MaxPriority()
	if a.Priority < 1 || a.Priority > max {
		return FieldErrorf("action.priority", "priority must be between 1 (Critical) and %d for %s", max, strings.ToLower(a.TicketType.Label()))
	}
	if len(a.PriorityByImpact) > 10 {
		return FieldErrorf("action.priorityByImpact", "at most 10 thresholds")
	}
	for i, t := range a.PriorityByImpact {
		f := fmt.Sprintf("action.priorityByImpact[%d]", i)
		if t.MinScoreImpact < 0 {
			return FieldErrorf(f+".minScoreImpact", "minScoreImpact must be 0 or more points (got %g)", t.MinScoreImpact)
		}
		if t.Priority < 1 || t.Priority > max {
			return FieldErrorf(f+".priority", "priority must be between 1 (Critical) and %d for %s", max, strings.ToLower(a.TicketType.Label()))
		}
	}
	if a.AssignmentGroup != "" && !isSysID(a.AssignmentGroup) {
		return FieldErrorf("action.assignmentGroup", "assignmentGroup must be the sys_id (32 hexadecimal digits) of a ServiceNow group (sys_user_group), got %q", a.AssignmentGroup)
	}
	if len(a.ConnectionID) > MaxIDLength {
		return FieldErrorf("action.connectionId", "connectionId must be at most %d characters", MaxIDLength)
	}
	if r.MaxTicketsPerRun == 0 {
		r.MaxTicketsPerRun = DefaultRuleTicketsPerRun
	}
	if r.MaxTicketsPerRun < 1 || r.MaxTicketsPerRun > MaxRuleTicketsPerRun {
		return FieldErrorf("maxTicketsPerRun", "maxTicketsPerRun must be from 1 to %d (got %d)", MaxRuleTicketsPerRun, r.MaxTicketsPerRun)
	}
	return nil
}

func isSysID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// RuleTrigger says what started a run.
type RuleTrigger string

const (
	TriggerImport   RuleTrigger = "import"   // a posture import finished
	TriggerSchedule RuleTrigger = "schedule" // the periodic run
	TriggerManual   RuleTrigger = "manual"   // a person asked (POST /api/v1/rules/{id}/run)
)

// RuleRun is what one run of a rule did.
type RuleRun struct {
	ID      int64       `json:"id"`
	RuleID  string      `json:"ruleId"`
	At      time.Time   `json:"at"`
	Trigger RuleTrigger `json:"trigger"`
	Actor   string      `json:"actor"`
	// Matched is how many actions the conditions selected (without an
	// open ticket); TicketIDs the tickets queued.
	Matched   int      `json:"matched"`
	TicketIDs []string `json:"ticketIds"`
	// CapHit says MaxTicketsPerRun stopped the run: Matched actions are
	// left for the next run.
	CapHit bool `json:"capHit"`
}

// RulePreview is what a rule would do now: the tickets, with their fields.
type RulePreview struct {
	RuleID  string `json:"ruleId"`
	Matched int    `json:"matched"`
	CapHit  bool   `json:"capHit"`
	// Tickets are the requests a run would queue now, in order.
	Tickets []*RuleTicket `json:"tickets"`
}

// RuleTicket is one ticket a rule would make: the request with the
// assignment group and the actions' score impact.
type RuleTicket struct {
	TicketRequest
	AssignmentGroup string  `json:"assignmentGroup,omitempty"`
	ScoreImpact     float64 `json:"scoreImpact"`
	// Actions are what the ticket's description lists of each action.
	Actions []TicketAction `json:"actions"`
}

// RuleService keeps the rules and runs them. Every change and run is
// audited in the same transaction.
type RuleService interface {
	// FindRules returns every rule, by name.
	FindRules(ctx context.Context) ([]*Rule, error)
	// FindRuleByID returns ENOTFOUND.
	FindRuleByID(ctx context.Context, id string) (*Rule, error)
	// CreateRule validates and stores r. Returns EINVALID naming the field.
	CreateRule(ctx context.Context, r *Rule) error
	// UpdateRule replaces the rule's definition. EINVALID, ENOTFOUND.
	UpdateRule(ctx context.Context, r *Rule) error
	// DeleteRule removes it (its tickets stay). ENOTFOUND.
	DeleteRule(ctx context.Context, id string) error
	// PreviewRule says exactly which tickets a run would make now,
	// enabled or not, making none. ENOTFOUND.
	PreviewRule(ctx context.Context, id string) (*RulePreview, error)
	// RunRule runs it now (even disabled, as a person asks). ENOTFOUND.
	RunRule(ctx context.Context, id string) (*RuleRun, error)
}
