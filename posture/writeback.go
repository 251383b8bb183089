package posture

import (
	"context"
	"log/slog"

	"github.com/scorebridge/scorebridge"
)

// WriteBackRecommendations wraps a recommendation service so that a state
// change of a Graph action is written back to Secure Score when its
// connector has write-back on. The change in the center stands either way:
// a failed write-back is logged and kept on the source, not undone.
type WriteBackRecommendations struct {
	scorebridge.RecommendationService
	Importer *Importer
	Logger   *slog.Logger
}

// UpdateRecommendation applies upd, then writes a state change back.
func (w *WriteBackRecommendations) UpdateRecommendation(ctx context.Context, id string, upd scorebridge.RecommendationUpdate) (*scorebridge.Recommendation, error) {
	before, _ := w.RecommendationService.FindRecommendationByID(ctx, id)
	r, err := w.RecommendationService.UpdateRecommendation(ctx, id, upd)
	if err != nil || before == nil || r.State == before.State {
		return r, err
	}
	if werr := w.Importer.WriteBack(ctx, r, upd.StateNote); werr != nil {
		if w.Logger != nil {
			w.Logger.Warn("writing the state back to Secure Score failed", "action", id, "err", werr)
		}
		msg := "write-back of " + r.ExternalID + ": " + werr.Error()
		if rerr := w.Importer.Store.RecordSourceError(ctx, r.SourceID, msg, sourceErrorEvent(r.SourceID, msg)); rerr != nil && w.Logger != nil {
			w.Logger.Error("record posture source error", "source", r.SourceID, "err", rerr)
		}
	}
	return r, nil
}
