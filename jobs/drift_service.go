package jobs

import (
	"context"
	"strings"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// DriftService implements scorebridge.DriftService, and acts on drift for
// the drift policy and on completed actions for resolve-on-completed:
// every action is a durable job queued in the transaction that records it
// (and its audit event), and a drift is acted on once.
type DriftService struct {
	store   *sqlstore.DriftStore
	tickets *TicketService
	runner  *Runner
}

var _ scorebridge.DriftService = (*DriftService)(nil)

// Drift returns the drift service.
func (r *Runner) Drift() *DriftService {
	return &DriftService{store: sqlstore.NewDriftStore(r.cfg.DB), tickets: r.tickets, runner: r}
}

// FindDrift returns drifted actions, newest first.
func (s *DriftService) FindDrift(ctx context.Context, f scorebridge.DriftFilter) ([]*scorebridge.DriftItem, string, error) {
	if f.Limit < 0 || f.Limit > sqlstore.MaxDriftPage {
		return nil, "", scorebridge.FieldErrorf("limit", "limit must be between 1 and %d", sqlstore.MaxDriftPage)
	}
	return s.store.FindDrift(ctx, f)
}

// CountDrift counts the tickets in drift now, for the home page.
func (s *DriftService) CountDrift(ctx context.Context) (scorebridge.DriftCount, error) {
	return s.store.CountDrift(ctx)
}

// ReopenDrift queues reopening the action's drifted ticket.
func (s *DriftService) ReopenDrift(ctx context.Context, actionID string) (*scorebridge.DriftItem, error) {
	d, err := s.store.FindActionDrift(ctx, actionID)
	if err != nil {
		return nil, err
	}
	if _, err := s.ActOnDrift(ctx, d.TicketID, scorebridge.DriftReopen, actorName(ctx)); err != nil {
		return nil, err
	}
	return s.store.FindActionDrift(ctx, actionID)
}

// NewLinkedTicket queues a new ticket following the action's drifted one.
func (s *DriftService) NewLinkedTicket(ctx context.Context, actionID string) (*scorebridge.Ticket, error) {
	d, err := s.store.FindActionDrift(ctx, actionID)
	if err != nil {
		return nil, err
	}
	return s.ActOnDrift(ctx, d.TicketID, scorebridge.DriftNew, actorName(ctx))
}

// ActOnDrift acts on a drifted ticket as policy says (reopen, or a new
// linked ticket, which it returns); by is who decided ("policy" for the
// setting). Returns ECONFLICT when the drift was acted on already.
func (s *DriftService) ActOnDrift(ctx context.Context, ticketID string, policy scorebridge.DriftPolicy, by string) (*scorebridge.Ticket, error) {
	switch policy {
	case scorebridge.DriftReopen:
		return nil, s.store.HandleDrift(ctx, ticketID, policy, by, nil, s.runner.enqueueUpdates(ChangeReopen))
	case scorebridge.DriftNew:
		old, err := s.tickets.FindTicketByID(ctx, ticketID)
		if err != nil {
			return nil, err
		}
		t := s.linkedTicket(ctx, old, by)
		if err := s.store.HandleDrift(ctx, ticketID, policy, by, t, s.runner.enqueueTickets); err != nil {
			return nil, err
		}
		return t, nil
	}
	return nil, scorebridge.FieldErrorf("policy", "drift policy %q does not act", policy)
}

// linkedTicket is the new ticket that follows a drifted one: the same
// type, actions, connection and priority, its description saying which
// ticket it follows and why, the due date kept only when still ahead.
func (s *DriftService) linkedTicket(ctx context.Context, old *scorebridge.Ticket, by string) *scorebridge.Ticket {
	ref := old.Number
	if ref == "" {
		ref = old.ID
	}
	was := old.StateName
	if was == "" {
		was = "finished"
	}
	desc := "Follows " + ref + ", which is " + was + " while the security control it covers is still not achieved."
	if d := strings.TrimSpace(old.Description); d != "" {
		desc += "\n\n" + d
	}
	if r := []rune(desc); len(r) > scorebridge.MaxTicketDescriptionLength {
		desc = string(r[:scorebridge.MaxTicketDescriptionLength])
	}
	t := &scorebridge.Ticket{
		ID: newTicketID(), RecommendationIDs: append([]string(nil), old.RecommendationIDs...), Type: old.Type,
		ConnectionID: old.ConnectionID, Name: old.Name, Description: desc, Priority: old.Priority, RequestedBy: by,
		Actions: old.Actions,
	}
	if old.DueDate >= s.tickets.now().UTC().Format(scorebridge.DueDateLayout) {
		t.DueDate = old.DueDate
	}
	// The actions as they are now: their remediation may have changed.
	var actions []scorebridge.TicketAction
	for _, id := range old.RecommendationIDs {
		r, err := s.tickets.recs.FindRecommendationByID(ctx, id)
		if err != nil {
			return t
		}
		actions = append(actions, scorebridge.TicketAction{ID: r.ID, Title: r.Title, Source: r.Source, Category: r.Category, Remediation: PlainText(r.Remediation)})
	}
	t.Actions = actions
	return t
}

// ResolveCompleted queues resolving the action's open tickets, once each.
func (s *DriftService) ResolveCompleted(ctx context.Context, actionID string) error {
	_, err := s.store.RequestResolve(ctx, actionID, s.runner.enqueueUpdates(ChangeResolve))
	return err
}

// actorName is who a person's action is recorded as: the sign-in name.
func actorName(ctx context.Context) string {
	if u := scorebridge.UserFromContext(ctx); u != nil && u.Name != "" {
		return u.Name
	} else if u != nil && u.ID != "" {
		return u.ID
	}
	return "system"
}
