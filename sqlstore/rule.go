package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/scorebridge/scorebridge"
)

// RuleStore keeps automation rules and their runs, finds the actions a
// rule selects, and writes a run's tickets with their jobs, the run and
// its audit event in one transaction. The rules engine (package rules)
// decides; the store holds no rule logic beyond the conditions' SQL.
type RuleStore struct {
	db      *DB
	tickets *TicketStore
}

// NewRuleStore returns the rule store on db.
func NewRuleStore(db *DB) *RuleStore { return &RuleStore{db: db, tickets: NewTicketStore(db)} }

// ruleDefinition is what the definition column holds.
type ruleDefinition struct {
	Conditions       scorebridge.RuleConditions `json:"conditions"`
	Action           scorebridge.RuleAction     `json:"action"`
	MaxTicketsPerRun int                        `json:"maxTicketsPerRun"`
}

// FindRules returns every rule by name, each with its latest run.
func (s *RuleStore) FindRules(ctx context.Context) ([]*scorebridge.Rule, error) {
	return s.findRules(ctx, "", nil)
}

// FindRuleByID returns ENOTFOUND when there is no such rule.
func (s *RuleStore) FindRuleByID(ctx context.Context, id string) (*scorebridge.Rule, error) {
	rs, err := s.findRules(ctx, "WHERE id = ?", []any{id})
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, scorebridge.Errorf(scorebridge.ENOTFOUND, "Rule %q not found.", id)
	}
	return rs[0], nil
}

// FindEnabledRules returns the rules that run on their own.
func (s *RuleStore) FindEnabledRules(ctx context.Context) ([]*scorebridge.Rule, error) {
	return s.findRules(ctx, "WHERE enabled = 1", nil)
}

func (s *RuleStore) findRules(ctx context.Context, where string, args []any) ([]*scorebridge.Rule, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT id, name, enabled, definition, created_by, created_at, updated_by, updated_at FROM rules `+where+` ORDER BY name, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("find rules: %w", err)
	}
	defer rows.Close()
	var out []*scorebridge.Rule
	for rows.Next() {
		r := &scorebridge.Rule{}
		var enabled int
		var def string
		if err := rows.Scan(&r.ID, &r.Name, &enabled, &def, &r.CreatedBy, scanTime{&r.CreatedAt}, &r.UpdatedBy, scanTime{&r.UpdatedAt}); err != nil {
			return nil, fmt.Errorf("read rule: %w", err)
		}
		var d ruleDefinition
		if err := json.Unmarshal([]byte(def), &d); err != nil {
			return nil, fmt.Errorf("read rule %s: %w", r.ID, err)
		}
		r.Enabled, r.Conditions, r.Action, r.MaxTicketsPerRun = enabled == 1, d.Conditions, d.Action, d.MaxTicketsPerRun
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	for _, r := range out {
		run := &scorebridge.RuleRun{RuleID: r.ID}
		var ids string
		var capHit int
		err := tx.QueryRowContext(ctx, `SELECT id, at, trigger, actor, matched, ticket_ids, cap_hit FROM rule_runs WHERE rule_id = ? ORDER BY id DESC LIMIT 1`, r.ID).
			Scan(&run.ID, scanTime{&run.At}, &run.Trigger, &run.Actor, &run.Matched, &ids, &capHit)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("read rule run: %w", err)
		}
		run.CapHit = capHit == 1
		if err := json.Unmarshal([]byte(ids), &run.TicketIDs); err != nil {
			return nil, fmt.Errorf("read rule run: %w", err)
		}
		r.LastRun = run
	}
	return out, nil
}

// CreateRule stores a validated rule with its audit event.
func (s *RuleStore) CreateRule(ctx context.Context, r *scorebridge.Rule) error {
	now, actor := s.db.now(), scorebridge.ActorFromContext(ctx)
	r.CreatedAt, r.UpdatedAt, r.CreatedBy, r.UpdatedBy = now, now, actor, actor
	def, err := json.Marshal(ruleDefinition{r.Conditions, r.Action, r.MaxTicketsPerRun})
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO rules (id, name, enabled, definition, created_by, created_at, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.Name, boolInt(r.Enabled), string(def), actor, s.db.timeArg(now), actor, s.db.timeArg(now)); err != nil {
			return fmt.Errorf("insert rule: %w", err)
		}
		return auditInTx(ctx, tx, &scorebridge.AuditEvent{Action: scorebridge.AuditRule, Target: r.ID,
			Detail: map[string]any{"change": "create", "name": r.Name, "enabled": r.Enabled, "definition": json.RawMessage(def)}})
	})
}

// UpdateRule replaces a validated rule's name, state and definition, with
// its audit event (old and new). ENOTFOUND when there is none.
func (s *RuleStore) UpdateRule(ctx context.Context, r *scorebridge.Rule) error {
	old, err := s.FindRuleByID(ctx, r.ID)
	if err != nil {
		return err
	}
	now, actor := s.db.now(), scorebridge.ActorFromContext(ctx)
	def, err := json.Marshal(ruleDefinition{r.Conditions, r.Action, r.MaxTicketsPerRun})
	if err != nil {
		return err
	}
	oldDef, _ := json.Marshal(ruleDefinition{old.Conditions, old.Action, old.MaxTicketsPerRun})
	change := "update"
	if string(def) == string(oldDef) && r.Name == old.Name && r.Enabled != old.Enabled {
		change = map[bool]string{true: "enable", false: "disable"}[r.Enabled]
	}
	r.CreatedAt, r.CreatedBy, r.UpdatedAt, r.UpdatedBy = old.CreatedAt, old.CreatedBy, now, actor
	return s.inTx(ctx, func(tx *tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE rules SET name = ?, enabled = ?, definition = ?, updated_by = ?, updated_at = ? WHERE id = ?`,
			r.Name, boolInt(r.Enabled), string(def), actor, s.db.timeArg(now), r.ID)
		if err != nil {
			return fmt.Errorf("update rule: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return scorebridge.Errorf(scorebridge.ENOTFOUND, "Rule %q not found.", r.ID)
		}
		return auditInTx(ctx, tx, &scorebridge.AuditEvent{Action: scorebridge.AuditRule, Target: r.ID, Detail: map[string]any{
			"change": change, "name": map[string]string{"from": old.Name, "to": r.Name}, "enabled": map[string]bool{"from": old.Enabled, "to": r.Enabled},
			"definition": map[string]json.RawMessage{"from": oldDef, "to": def}}})
	})
}

// DeleteRule removes a rule and its runs with its audit event; the
// tickets it made stay. ENOTFOUND when there is none.
func (s *RuleStore) DeleteRule(ctx context.Context, id string) error {
	old, err := s.FindRuleByID(ctx, id)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM rule_runs WHERE rule_id = ?`, id); err != nil {
			return fmt.Errorf("delete rule runs: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM rules WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete rule: %w", err)
		}
		return auditInTx(ctx, tx, &scorebridge.AuditEvent{Action: scorebridge.AuditRule, Target: id, Detail: map[string]any{"change": "delete", "name": old.Name}})
	})
}

func (s *RuleStore) inTx(ctx context.Context, f func(*tx) error) error {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// RuleCandidate is an action a rule's conditions select, with what its
// ticket needs.
type RuleCandidate struct {
	ID, Title, Description, Remediation string
	Category                            scorebridge.Category
	Source                              scorebridge.Source
	// Impact is the points still to win.
	Impact float64
}

// openTicket is the condition of a ticket that keeps its actions from
// getting another: queued, failed (waiting for a person's retry), or sent
// and not finished in ServiceNow.
const openTicket = `(t.status IN ('queued', 'failed') OR (t.status = 'sent' AND t.state_class IN ('', 'open')))`

// FindRuleCandidates returns the actions rule r selects now, most points
// first, at most limit, in one query: its conditions, not retired, no
// open ticket, and for regressed or drift conditions not already acted on
// by this rule since the regression or drift.
func (s *RuleStore) FindRuleCandidates(ctx context.Context, r *scorebridge.Rule, limit int) ([]RuleCandidate, error) {
	var where []string
	var args []any
	in := func(col string, vals []string) {
		if len(vals) == 0 {
			return
		}
		where = append(where, col+" IN ("+strings.TrimSuffix(strings.Repeat("?,", len(vals)), ",")+")")
		for _, v := range vals {
			args = append(args, v)
		}
	}
	c := r.Conditions
	in("r.category", strs(c.Categories))
	in("r.source", strs(c.Sources))
	in("r.service", c.Services)
	in("r.tier", c.Tiers)
	in("r.state", strs(c.States))
	if c.MinScoreImpact > 0 {
		where = append(where, "r.impact >= ?")
		args = append(args, c.MinScoreImpact)
	}
	if c.NewSinceLastImport {
		// Added by the source's latest import: no earlier import of the
		// source happened after the action was created.
		where = append(where, `r.source_id <> '' AND EXISTS (SELECT 1 FROM posture_imports i WHERE i.source_id = r.source_id)
			AND NOT EXISTS (SELECT 1 FROM posture_imports i WHERE i.source_id = r.source_id AND i.at >= r.created_at
				AND i.id < (SELECT MAX(j.id) FROM posture_imports j WHERE j.source_id = r.source_id))`)
	}
	if c.Regressed {
		where = append(where, `r.regressed_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM rule_tickets rt
			WHERE rt.rule_id = ? AND rt.recommendation_id = r.id AND rt.created_at >= r.regressed_at)`)
		args = append(args, r.ID)
	}
	if c.Drift {
		// Once per drift: measured from when the drift began, not the
		// ticket's last update, which tracking keeps moving.
		where = append(where, `EXISTS (SELECT 1 FROM ticket_recommendations dtr JOIN tickets dt ON dt.id = dtr.ticket_id
			WHERE dtr.recommendation_id = r.id AND dt.drift = 1 AND NOT EXISTS (SELECT 1 FROM rule_tickets rt
				WHERE rt.rule_id = ? AND rt.recommendation_id = r.id AND rt.created_at >= dt.drift_at))`)
		args = append(args, r.ID)
	}
	where = append(where, "r.retired_at IS NULL", `NOT EXISTS (SELECT 1 FROM ticket_recommendations tr JOIN tickets t ON t.id = tr.ticket_id
		WHERE tr.recommendation_id = r.id AND `+openTicket+`)`)
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT r.id, r.title, r.description, r.remediation, r.category, r.source, r.impact FROM recommendations r
		WHERE `+strings.Join(where, " AND ")+` ORDER BY r.impact DESC, r.id LIMIT `+fmt.Sprint(limit), args...)
	if err != nil {
		return nil, fmt.Errorf("find rule candidates: %w", err)
	}
	defer rows.Close()
	var out []RuleCandidate
	for rows.Next() {
		var rc RuleCandidate
		if err := rows.Scan(&rc.ID, &rc.Title, &rc.Description, &rc.Remediation, &rc.Category, &rc.Source, &rc.Impact); err != nil {
			return nil, fmt.Errorf("read rule candidate: %w", err)
		}
		out = append(out, rc)
	}
	return out, rows.Err()
}

func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// CommitRuleRun writes a run in one transaction: its tickets (queued, with
// their jobs through enqueue), which rule made them for which action, the
// run record and its rule.run audit event. On PostgreSQL the transaction
// holds an advisory lock, so two replicas running rules at once write one
// after the other; each ticket's actions are checked again inside it, and
// an action that got an open ticket meanwhile is dropped (a ticket left
// with none is not made). run.TicketIDs says what was made.
func (s *RuleStore) CommitRuleRun(ctx context.Context, rule *scorebridge.Rule, run *scorebridge.RuleRun, tickets []*scorebridge.Ticket, enqueue EnqueueFunc) error {
	now := s.db.now()
	run.At, run.RuleID = now, rule.ID
	if run.Actor == "" {
		run.Actor = scorebridge.ActorFromContext(ctx)
	}
	var ids []string
	err := s.tickets.inEnqueueTx(ctx, func(x execer) error {
		ids = nil
		if s.db.Dialect == DialectPostgres {
			if err := x.exec(ctx, `SELECT pg_advisory_xact_lock(7243001)`); err != nil {
				return fmt.Errorf("lock rule runs: %w", err)
			}
		}
		for _, t := range tickets {
			if len(t.RecommendationIDs) == 0 {
				continue
			}
			marks := strings.TrimSuffix(strings.Repeat("?,", len(t.RecommendationIDs)), ",")
			args := make([]any, len(t.RecommendationIDs))
			for i, id := range t.RecommendationIDs {
				args[i] = id
			}
			// From the ticket's actions to their tickets: as a join, SQLite
			// walked every queued ticket instead, one check per ticket.
			taken, err := x.queryStrings(ctx, `SELECT tr.recommendation_id FROM ticket_recommendations tr
				WHERE tr.recommendation_id IN (`+marks+`) AND EXISTS (SELECT 1 FROM tickets t WHERE t.id = tr.ticket_id AND `+openTicket+`)`, args...)
			if err != nil {
				return fmt.Errorf("check open tickets: %w", err)
			}
			if len(taken) > 0 {
				t.RecommendationIDs, t.Actions = dropActions(t, taken)
				if len(t.RecommendationIDs) == 0 {
					continue
				}
			}
			if err := s.tickets.insertTicket(ctx, x, t, now); err != nil {
				return err
			}
			for start := 0; start < len(t.RecommendationIDs); start += rowsPerInsert {
				end := min(start+rowsPerInsert, len(t.RecommendationIDs))
				args := make([]any, 0, 4*(end-start))
				for _, rid := range t.RecommendationIDs[start:end] {
					args = append(args, rule.ID, rid, t.ID, s.db.timeArg(now))
				}
				if err := x.exec(ctx, `INSERT INTO rule_tickets (rule_id, recommendation_id, ticket_id, created_at) VALUES `+valueRows(end-start, 4), args...); err != nil {
					return fmt.Errorf("record rule tickets: %w", err)
				}
			}
			ids = append(ids, t.ID)
		}
		run.TicketIDs = append([]string{}, ids...)
		idsJSON, _ := json.Marshal(run.TicketIDs)
		if err := x.exec(ctx, `INSERT INTO rule_runs (rule_id, at, trigger, actor, matched, ticket_ids, cap_hit) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			rule.ID, s.db.timeArg(now), string(run.Trigger), run.Actor, run.Matched, string(idsJSON), boolInt(run.CapHit)); err != nil {
			return fmt.Errorf("record rule run: %w", err)
		}
		return auditExec(ctx, s.db, x, &scorebridge.AuditEvent{Action: scorebridge.AuditRuleRun, Target: rule.ID, Detail: map[string]any{
			"rule": rule.Name, "trigger": string(run.Trigger), "matched": run.Matched, "tickets": run.TicketIDs,
			"capHit": run.CapHit, "maxTicketsPerRun": rule.MaxTicketsPerRun}})
	}, func(ctx context.Context, tx TicketTx, _ []string) error {
		if len(ids) == 0 {
			return nil
		}
		return enqueue(ctx, tx, ids)
	}, nil)
	return err
}

// dropActions removes the taken actions from a ticket.
func dropActions(t *scorebridge.Ticket, taken []string) ([]string, []scorebridge.TicketAction) {
	gone := map[string]bool{}
	for _, id := range taken {
		gone[id] = true
	}
	var ids []string
	var acts []scorebridge.TicketAction
	for _, id := range t.RecommendationIDs {
		if !gone[id] {
			ids = append(ids, id)
		}
	}
	for _, a := range t.Actions {
		if !gone[a.ID] {
			acts = append(acts, a)
		}
	}
	return ids, acts
}
