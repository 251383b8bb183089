package web

import (
	"context"
	"net/http"
	"time"

	"github.com/scorebridge/scorebridge"
)

// healthzTimeout bounds the database check so a hung database makes the
// probe fail rather than hang.
const healthzTimeout = 2 * time.Second

// handleHealthz answers 200 when the database answers a one-row query, 503
// otherwise. The cause is logged, not shown: the probe is unauthenticated.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), healthzTimeout)
	defer cancel()
	if _, _, err := s.recommendations.FindRecommendations(ctx, scorebridge.RecommendationFilter{Limit: 1}); err != nil {
		s.logger.ErrorContext(r.Context(), "health check failed", "error", err.Error())
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// handleReadyz answers 200 when the center can do its work, 503 with the
// reason otherwise (the database file removed or replaced, the database
// not answering), so a load balancer stops sending it requests while
// /healthz, the liveness probe, keeps the process alive.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), healthzTimeout)
	defer cancel()
	err := error(nil)
	if s.ready != nil {
		err = s.ready(ctx)
	}
	if err == nil {
		_, _, err = s.recommendations.FindRecommendations(ctx, scorebridge.RecommendationFilter{Limit: 1})
	}
	if err != nil {
		s.logger.ErrorContext(r.Context(), "readiness check failed", "error", err.Error())
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": "the database cannot be used: " + err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
