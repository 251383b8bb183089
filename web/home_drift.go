package web

import (
	"context"

	"github.com/scorebridge/scorebridge"
)

// homeDrift reads the home page's Drift card: how many tickets are in
// drift now, a bounded count from an index. Nil without drift; a failure
// is logged and leaves the card out, the home page still shows the score.
func (s *Server) homeDrift(ctx context.Context) *scorebridge.DriftCount {
	if s.drift == nil {
		return nil
	}
	n, err := s.drift.CountDrift(ctx)
	if err != nil {
		s.logger.ErrorContext(ctx, "drift not counted for the home page", "error", err.Error())
		return nil
	}
	return &n
}
