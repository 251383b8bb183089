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
// reason otherwise (the database cannot be written: its disk full, its
// file read-only, removed or replaced; or it does not answer), so a load balancer stops sending it requests while
// /healthz, the liveness probe, keeps the process alive.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), healthzTimeout)
	defer cancel()
	reason := ""
	if s.ready != nil {
		if err := s.ready(ctx); err != nil {
			reason = err.Error() // says what and why: "the database cannot be written: the disk ... is full"
		}
	}
	if reason == "" {
		if _, _, err := s.recommendations.FindRecommendations(ctx, scorebridge.RecommendationFilter{Limit: 1}); err != nil {
			reason = "the database cannot be used: " + err.Error()
		}
	}
	if reason != "" {
		s.logger.ErrorContext(r.Context(), "readiness check failed", "reason", reason)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": reason})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
