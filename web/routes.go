package web

import (
	"net/http"
	"slices"

	"github.com/scorebridge/scorebridge"
)

// route is one entry of the route table: a ServeMux pattern, the least
// powerful role allowed to call it, and its handler.
type route struct {
	pattern string
	role    string
	handler http.HandlerFunc
}

// routeTable lists every route the server answers, in one place, so the role
// each one needs can be read (and reviewed) at a glance.
func (s *Server) routeTable() []route {
	const (
		reader   = scorebridge.RoleReader
		operator = scorebridge.RoleOperator
		admin    = scorebridge.RoleAdmin
	)
	return []route{
		// Pages.
		{"GET /{$}", reader, s.handleHome},
		{"GET /actions", reader, s.handleActionList},
		{"GET /actions/new", admin, s.handleActionNew},
		{"POST /actions", admin, s.idempotent(s.handleActionCreate)},
		{"GET /actions/{id}", reader, s.handleActionView},
		{"POST /actions/{id}/state", operator, s.handleActionStateChange},
		{"GET /actions/{id}/edit", admin, s.handleActionEdit},
		{"POST /actions/{id}/edit", admin, s.handleActionUpdate},
		{"GET /actions/{id}/delete", admin, s.handleActionDeleteConfirm},
		{"POST /actions/{id}/delete", admin, s.handleActionDelete},
		{"GET /static/{hash}/{name}", rolePublic, s.handleAsset},

		// JSON API.
		{"GET /api/v1/score", reader, s.handleAPIScore},
		{"GET /api/v1/score/history", reader, s.handleAPIScoreHistory},
		{"GET /api/v1/recommendations", reader, s.handleAPIRecommendationList},
		{"POST /api/v1/recommendations", admin, s.idempotent(s.handleAPIRecommendationCreate)},
		{"GET /api/v1/recommendations/{id}", reader, s.handleAPIRecommendationGet},
		{"PATCH /api/v1/recommendations/{id}", operator, s.handleAPIRecommendationPatch},
		{"DELETE /api/v1/recommendations/{id}", admin, s.handleAPIRecommendationDelete},
		{"GET /api/v1/recommendations/{id}/history", reader, s.handleAPIRecommendationHistory},

		// Probes: public, a load balancer calls them.
		{"GET /healthz", rolePublic, s.handleHealthz},
		{"GET /readyz", rolePublic, s.handleReadyz},
	}
}

// routes builds the mux from the route table and wraps it in the middleware
// chain. Middleware runs in the order listed: logging sees every response,
// including those of panics and refused cross-origin posts.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.allRoutes() {
		mux.Handle(rt.pattern, s.measure(rt.pattern, s.auditRequest(rt.pattern, s.requireRole(rt.role, rt.handler))))
	}
	return chain(s.fallback(mux),
		s.logRequests,
		s.recoverPanics,
		s.securityHeaders,
		s.checkHost,
		s.resolveClient,
		s.strictTransport,
		s.crossOriginProtection,
		s.authenticate,
	)
}

// allRoutes is the route table: the routes of every part of the center,
// each with its role rule. NewServer refuses a route without one.
func (s *Server) allRoutes() []route {
	return slices.Concat(s.routeTable(), s.ticketRoutes(), s.connectionRoutes(), s.authRoutes(), s.consoleRoutes(), s.trackingRoutes(), s.stateNameRoutes(), s.metricsRoutes(), s.postureRoutes(), s.settingsRoutes(), s.driftRoutes(), s.notificationRoutes(), s.slaRoutes(), s.ruleRoutes())
}
