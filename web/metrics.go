package web

import (
	"net/http"
	"time"

	"github.com/scorebridge/scorebridge"
)

// metricsRoutes serves the Prometheus metrics to readers: a Prometheus
// scrapes with an API token of role reader (Authorization: Bearer), so the
// figures, which name instances and connections, are never public.
func (s *Server) metricsRoutes() []route {
	if s.metrics == nil {
		return nil
	}
	h := s.metrics.Handler()
	return []route{{"GET /metrics", scorebridge.RoleReader, h.ServeHTTP}}
}

// measure records each request's latency and status under its route
// pattern, never its path, so the metric's labels stay few however many
// actions and tickets there are.
func (s *Server) measure(pattern string, next http.Handler) http.Handler {
	if s.metrics == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		s.metrics.ObserveRequest(pattern, status, time.Since(start))
	})
}
