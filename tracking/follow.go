package tracking

import (
	"context"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/servicenow"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// follow moves each changed ticket's actions after it: Planned while open,
// Completed when it finishes with the control achieved, drift when it
// finishes without, To address when canceled or deleted. A state a person
// chose (risk accepted, resolved through a third party) is never touched.
func (s *Service) follow(ctx context.Context, client *servicenow.Client, applied []sqlstore.AppliedChange) {
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
		if err := s.cfg.Store.SetDrift(ctx, a.Ticket.ID, drift); err != nil {
			s.cfg.Logger.Error("drift not recorded", "ticket", a.Ticket.ID, "error", err)
		}
		if drift && s.settings(ctx).DriftPolicy() == scorebridge.DriftReopen && client != nil {
			s.reopen(ctx, client, a)
		}
	}
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

// reopenStates is the In Progress value per table.
var reopenStates = map[string]string{servicenow.TableIncident: "2", servicenow.TableChangeRequest: "-1", servicenow.TableProblem: "104"}

// reopen sets a drifted ticket back to In Progress with a work note saying
// why.
func (s *Service) reopen(ctx context.Context, client *servicenow.Client, a sqlstore.AppliedChange) {
	table := a.Change.Table
	state, ok := reopenStates[table]
	if !ok {
		return
	}
	_, err := client.Update(ctx, table, a.Change.SysID, map[string]string{
		"state":      state,
		"work_notes": "Reopened by scorebridge: the ticket was " + a.StateName + " but the security control it covers is still not achieved.",
	})
	if err != nil {
		s.cfg.Logger.Error("drifted ticket not reopened", "ticket", a.Ticket.ID, "error", err)
	}
}
