package tracking

import (
	"context"

	"github.com/scorebridge/scorebridge"
)

// ResolvingRecommendations wraps a recommendation service so that an
// action that becomes Completed while its ticket is still open resolves
// the ticket (a work note, the close code and notes, through a durable
// job), when the resolve-on-completed setting is on: ServiceNow learns the
// control is fixed.
type ResolvingRecommendations struct {
	scorebridge.RecommendationService
	Tracking *Service
}

// UpdateRecommendation applies upd, then acts on a move to Completed.
func (w *ResolvingRecommendations) UpdateRecommendation(ctx context.Context, id string, upd scorebridge.RecommendationUpdate) (*scorebridge.Recommendation, error) {
	before, _ := w.RecommendationService.FindRecommendationByID(ctx, id)
	r, err := w.RecommendationService.UpdateRecommendation(ctx, id, upd)
	if err != nil || before == nil || r.State == before.State || r.State != scorebridge.StateCompleted {
		return r, err
	}
	w.Tracking.ActionCompleted(ctx, id)
	return r, nil
}

// ActionCompleted resolves the action's open tickets when the
// resolve-on-completed setting is on. The change of the action stands
// either way: a failure to queue is logged.
func (s *Service) ActionCompleted(ctx context.Context, actionID string) {
	if s.cfg.Actions == nil || !s.settings(ctx).ResolveOnCompleted() {
		return
	}
	if err := s.cfg.Actions.ResolveCompleted(ctx, actionID); err != nil {
		s.cfg.Logger.Error("open tickets of a completed action not queued to resolve", "action", actionID, "error", err)
	}
}

// ImportMark is taken before a posture import, for ImportApplied.
func (s *Service) ImportMark(ctx context.Context) int64 {
	if s.cfg.Drift == nil {
		return 0
	}
	mark, err := s.cfg.Drift.StateChangeMark(ctx)
	if err != nil {
		s.cfg.Logger.Error("state change mark not read", "error", err)
		return -1
	}
	return mark
}

// ImportApplied follows a posture import: the actions it completed resolve
// their open tickets (with the setting on), and the controls it regressed
// after their ticket finished follow the drift policy. mark is what
// ImportMark gave before the import; -1 skips the completions.
func (s *Service) ImportApplied(ctx context.Context, mark int64, regressed bool) error {
	if s.cfg.Drift == nil {
		return nil
	}
	if mark >= 0 && s.cfg.Actions != nil && s.settings(ctx).ResolveOnCompleted() {
		ids, err := s.cfg.Drift.CompletedSince(ctx, mark)
		if err != nil {
			return err
		}
		for _, id := range ids {
			s.ActionCompleted(ctx, id)
		}
	}
	if regressed {
		return s.FollowRegressions(ctx)
	}
	return nil
}
