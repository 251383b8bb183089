package tracking

import (
	"context"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// DriftStore keeps drift; sqlstore.DriftStore implements it.
type DriftStore interface {
	// StartDrift marks a ticket drifted, reporting whether this began a
	// new drift (false when it already was).
	StartDrift(ctx context.Context, ticketID string, reason scorebridge.DriftReason) (bool, error)
	// FindRegressionDrift returns the finished, not yet drifted tickets of
	// actions whose control regressed since.
	FindRegressionDrift(ctx context.Context) ([]sqlstore.RegressionDrift, error)
	// StateChangeMark is the newest state change's id; CompletedSince
	// the actions a state change after mark completed.
	StateChangeMark(ctx context.Context) (int64, error)
	CompletedSince(ctx context.Context, mark int64) ([]string, error)
}

var _ DriftStore = (*sqlstore.DriftStore)(nil)

// DriftActions acts on drift and on completed actions through durable
// jobs; jobs.DriftService implements it.
type DriftActions interface {
	// ActOnDrift reopens the drifted ticket or queues a new linked one,
	// as policy says; ECONFLICT when the drift was acted on already.
	ActOnDrift(ctx context.Context, ticketID string, policy scorebridge.DriftPolicy, by string) (*scorebridge.Ticket, error)
	// ResolveCompleted queues resolving the action's open tickets.
	ResolveCompleted(ctx context.Context, actionID string) error
}

// PolicyActor is who the audit log names when the drift policy acts.
const PolicyActor = "policy"

// follow moves each changed ticket's actions after it: Planned while open,
// Completed when it finishes with the control achieved, drift when it
// finishes without, To address when canceled or deleted. A state a person
// chose (risk accepted, resolved through a third party) is never touched.
func (s *Service) follow(ctx context.Context, applied []sqlstore.AppliedChange) {
	for _, a := range applied {
		if a.Class == a.Ticket.StateClass {
			continue
		}
		drift := false
		for _, id := range a.Ticket.RecommendationIDs {
			r, err := s.cfg.Recommendations.FindRecommendationByID(ctx, id)
			if err != nil {
				s.cfg.Logger.Warn("action of a tracked ticket not found", "ticket", a.Ticket.ID, "action", id, "error", err)
				continue
			}
			f := scorebridge.FollowTicket(a.Class, r.ControlAchieved())
			drift = drift || f.Drift
			if f.State == "" || f.State == r.State || !followable(r.State, f.State) {
				continue
			}
			st := f.State
			note := "Ticket " + a.Ticket.ID + " is " + a.StateName + " in ServiceNow."
			if _, err := s.cfg.Recommendations.UpdateRecommendation(ctx, id, scorebridge.RecommendationUpdate{State: &st, StateNote: note}); err != nil {
				s.cfg.Logger.Error("action not moved after its ticket", "ticket", a.Ticket.ID, "action", id, "error", err)
			}
		}
		if drift {
			s.drifted(ctx, a.Ticket.ID, a.Ticket.RecommendationIDs, scorebridge.DriftFinished, a.StateName)
			continue
		}
		if err := s.cfg.Store.SetDrift(ctx, a.Ticket.ID, false); err != nil {
			s.cfg.Logger.Error("drift not cleared", "ticket", a.Ticket.ID, "error", err)
		}
	}
}

// drifted records a drift; when it is a new one, the listeners hear of it
// and the drift policy acts, once.
func (s *Service) drifted(ctx context.Context, ticketID string, actionIDs []string, reason scorebridge.DriftReason, stateName string) {
	fresh := true
	if s.cfg.Drift != nil {
		var err error
		if fresh, err = s.cfg.Drift.StartDrift(ctx, ticketID, reason); err != nil {
			s.cfg.Logger.Error("drift not recorded", "ticket", ticketID, "error", err)
			return
		}
	} else if err := s.cfg.Store.SetDrift(ctx, ticketID, true); err != nil {
		s.cfg.Logger.Error("drift not recorded", "ticket", ticketID, "error", err)
		return
	}
	if !fresh {
		return
	}
	policy := s.settings(ctx).DriftPolicy()
	ev := scorebridge.DriftEvent{TicketID: ticketID, ActionIDs: actionIDs, Reason: reason, StateName: stateName, At: s.cfg.Now().UTC(), Policy: policy}
	s.cfg.Logger.Info("drift found", "ticket", ticketID, "reason", string(reason), "policy", string(policy))
	for _, l := range s.listeners() {
		l.DriftDetected(ctx, ev)
	}
	if policy == scorebridge.DriftNone || s.cfg.Actions == nil {
		return
	}
	if _, err := s.cfg.Actions.ActOnDrift(ctx, ticketID, policy, PolicyActor); err != nil && scorebridge.ErrorCode(err) != scorebridge.ECONFLICT {
		s.cfg.Logger.Error("drift policy did not act", "ticket", ticketID, "policy", string(policy), "error", err)
	}
}

// FollowRegressions applies the drift policy to the finished tickets of
// actions whose control regressed since: each regression once. The sync
// runs it after every pass, and the posture import after every import.
func (s *Service) FollowRegressions(ctx context.Context) error {
	if s.cfg.Drift == nil {
		return nil
	}
	found, err := s.cfg.Drift.FindRegressionDrift(ctx)
	if err != nil {
		return err
	}
	byTicket := map[string][]string{}
	var order []string
	for _, d := range found {
		if _, ok := byTicket[d.TicketID]; !ok {
			order = append(order, d.TicketID)
		}
		byTicket[d.TicketID] = append(byTicket[d.TicketID], d.ActionID)
	}
	for _, id := range order {
		s.drifted(ctx, id, byTicket[id], scorebridge.DriftRegressed, "")
	}
	return nil
}

// AddDriftListener makes l hear of every drift found from now on.
func (s *Service) AddDriftListener(l scorebridge.DriftListener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.extraListeners = append(s.extraListeners, l)
}

func (s *Service) listeners() []scorebridge.DriftListener {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append(append([]scorebridge.DriftListener(nil), s.cfg.Listeners...), s.extraListeners...)
}

// followable reports whether following a ticket may move an action from
// one state to another: only along the ticket's own path.
func followable(from, to scorebridge.State) bool {
	switch to {
	case scorebridge.StatePlanned:
		return from == scorebridge.StateToAddress
	case scorebridge.StateCompleted:
		return from == scorebridge.StateToAddress || from == scorebridge.StatePlanned
	case scorebridge.StateToAddress:
		return from == scorebridge.StatePlanned
	}
	return false
}
