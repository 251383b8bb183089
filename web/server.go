// Package web serves scorebridge over HTTP: the server-rendered pages, the
// JSON API under /api/v1 and /healthz. Handlers parse and validate input,
// call a domain service and respond; they hold no business rules.
//
// Wiring, as cmd/scorebridge does it:
//
//	db, _ := sqlstore.Open(ctx, dsn)
//	srv, err := web.NewServer(web.Config{
//		Recommendations: sqlstore.NewRecommendationService(db),
//		Scores:          sqlstore.NewScoreService(db),
//		Logger:          logger,
//	})
//	httpServer := &http.Server{Addr: addr, Handler: srv.Handler()}
//
// Every route is listed with the role it needs in routes.go; the JSON API's
// shapes are described in API.md.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/metrics"
)

// Config holds what a Server needs. Recommendations, Scores and Logger are
// required.
type Config struct {
	// Recommendations keeps the improvement actions.
	Recommendations scorebridge.RecommendationService
	// Scores computes the Secure Score and its history.
	Scores scorebridge.ScoreService
	// Tickets shares actions to ServiceNow; optional: without it the
	// ticket pages and API answer 404.
	Tickets scorebridge.TicketService
	// Connections connects ServiceNow instances; optional: without it the
	// connection pages and API answer 503.
	Connections scorebridge.ConnectionService
	// Tracking brings ticket state back from ServiceNow (sync, push,
	// summary); optional: without it those routes answer 404.
	Tracking scorebridge.TrackingService
	// Logger receives request logs and the detail of internal errors.
	Logger *slog.Logger
	// Auth turns sign-in on: sessions, API tokens, OIDC and role checks
	// against real accounts. The product always sets it. Exactly one of
	// Auth and User must be set.
	Auth *Auth
	// User is a trusted single user who acts for every request without
	// signing in: for tests and embedding only, never for a served center.
	// DefaultUser is a ready one (a security admin).
	User *scorebridge.User
	// Audit records who did what (sign-ins, token use, every state-changing
	// request) and serves the audit page; required with Auth. Handlers
	// reach it with scorebridge.RecordAudit(r.Context(), ...).
	Audit scorebridge.AuditService
	// Idempotency keeps Idempotency-Key answers, so creating requests can
	// be retried safely; optional: without it keys are ignored. The product
	// always sets it.
	Idempotency scorebridge.IdempotencyService
	// TrustedProxies are the proxies whose X-Forwarded-For and Forwarded
	// headers name the real client, for the audit log and sign-in
	// throttling. Default none: the TCP peer is the client and the headers
	// are ignored.
	TrustedProxies []netip.Prefix
	// Hosts are the host names (host or host:port) the center answers to:
	// its public URL's host and its listen address. Requests for any other
	// Host get a 421, so DNS rebinding cannot reach the center. Default
	// none: every host is answered (tests, embedding).
	Hosts []string
	// Ready reports whether the center can do its work: its database can
	// be written and is still the one it opened. /readyz answers 503 with
	// its message when it fails; optional (a probe of the database's
	// reads alone without it).
	Ready func(context.Context) error
	// WriteProblem, when set, says why the database cannot be written
	// ("" when it can); every page then shows it in a banner, so people
	// know their changes are refused and why. It must be cheap: it is
	// asked on every page.
	WriteProblem func() string
	// DataVersion, when set, is the database's change count
	// (sqlstore.DB.Version): the busiest pages are then kept once built
	// and answered from what was kept while the count stays the same
	// (kept_views.go). It must be cheap: it is asked on every such page.
	DataVersion func() (uint64, bool)
	// Metrics records requests and serves GET /metrics (role reader: a
	// Prometheus scrapes with an API token); optional: without it /metrics
	// answers 404.
	Metrics *metrics.Registry
	// Posture imports posture data (Graph, ScubaGear, Prowler) and keeps
	// its sources; optional: without it the sources pages and API answer
	// 404.
	Posture PostureService
	// Notifications keeps the notification targets (the Notifications
	// page and /api/v1/notifications/targets); nil leaves them out.
	Notifications scorebridge.NotificationService
	// Settings keeps the center's settings (the Settings page and
	// /api/v1/settings); optional: without it those routes answer 404.
	Settings scorebridge.SettingsService
	// Drift lists drifted tickets and acts on them (the Drift page and
	// /api/v1/drift); optional: without it those routes answer 404.
	Drift scorebridge.DriftService
	// SLA keeps the due days per priority and the overdue work note (its
	// section of the Settings page and /api/v1/sla); optional.
	SLA scorebridge.SLAService
	// SLAReports counts overdue tickets (the home page's Overdue card) and
	// times how long tickets take to close; optional.
	SLAReports scorebridge.SLAReports
	// Rules keeps and runs the automation rules (the Rules pages and
	// /api/v1/rules); optional.
	Rules scorebridge.RuleService
}

// DefaultUser is a trusted security admin for Config.User in tests.
var DefaultUser = &scorebridge.User{ID: "local-admin", Name: "admin", Role: scorebridge.RoleAdmin}

func (c *Config) validate() error {
	if c.Recommendations == nil {
		return errors.New("web: Config.Recommendations is required")
	}
	if c.Scores == nil {
		return errors.New("web: Config.Scores is required")
	}
	if c.Logger == nil {
		return errors.New("web: Config.Logger is required")
	}
	switch {
	case c.Auth == nil && c.User == nil:
		return errors.New("web: Config needs Auth (sign-in) or User (a trusted single user, for tests)")
	case c.Auth != nil && c.User != nil:
		return errors.New("web: Config.Auth and Config.User exclude each other")
	case c.Auth != nil && c.Audit == nil:
		return errors.New("web: Config.Audit is required with Auth: sign-in throttling and the audit log need it")
	case c.Auth != nil:
		return c.Auth.validate()
	}
	return nil
}

// Server holds the parsed templates, assets and services behind the
// handlers. It is safe for concurrent use.
type Server struct {
	metrics         *metrics.Registry
	recommendations scorebridge.RecommendationService
	scores          scorebridge.ScoreService
	tickets         scorebridge.TicketService
	connections     scorebridge.ConnectionService
	tracking        scorebridge.TrackingService
	stateNames      scorebridge.StateNameService
	logger          *slog.Logger
	ready           func(context.Context) error
	writeProblem    func() string
	user            *scorebridge.User
	auth            *Auth
	audit           scorebridge.AuditService
	posture         PostureService
	settings        scorebridge.SettingsService
	notifications   scorebridge.NotificationService
	drift           scorebridge.DriftService
	sla             scorebridge.SLAService
	slaReports      scorebridge.SLAReports
	rules           scorebridge.RuleService
	oidc            *oidcClient
	signIns         *signInGate
	idempotency     scorebridge.IdempotencyService
	trustedProxies  []netip.Prefix
	hosts           map[string]bool
	hostList        []string
	views           *keptViews

	templates *templateSet
	assets    *assetSet
	nav       []navEntry // the navigation's links, those the routes serve
	handler   http.Handler
}

// NewServer parses the embedded templates and hashes the static assets, so a
// broken template stops start-up instead of the first request.
func NewServer(cfg Config) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Server{
		metrics:         cfg.Metrics,
		recommendations: cfg.Recommendations,
		scores:          cfg.Scores,
		tickets:         cfg.Tickets,
		connections:     cfg.Connections,
		tracking:        cfg.Tracking,
		logger:          cfg.Logger,
		ready:           cfg.Ready,
		writeProblem:    cfg.WriteProblem,
		user:            cfg.User,
		auth:            cfg.Auth,
		audit:           cfg.Audit,
		posture:         cfg.Posture,
		settings:        cfg.Settings,
		notifications:   cfg.Notifications,
		drift:           cfg.Drift,
		sla:             cfg.SLA,
		slaReports:      cfg.SLAReports,
		rules:           cfg.Rules,
		signIns:         newSignInGate(),
		idempotency:     cfg.Idempotency,
		trustedProxies:  cfg.TrustedProxies,
		hostList:        cfg.Hosts,
		views:           newKeptViews(cfg.DataVersion),
	}
	if len(cfg.Hosts) > 0 {
		s.hosts = hostSet(cfg.Hosts)
	}
	// The tracking service keeps the ticket state names too, when it can.
	s.stateNames, _ = cfg.Tracking.(scorebridge.StateNameService)
	if s.auth != nil && s.auth.OIDC != nil {
		s.oidc = &oidcClient{cfg: s.auth.OIDC}
	}
	if err := checkRouteRules(s.allRoutes()); err != nil {
		return nil, err
	}
	s.nav = buildNav(s.allRoutes())
	var err error
	if s.assets, err = loadAssets(); err != nil {
		return nil, fmt.Errorf("web: assets: %w", err)
	}
	if s.templates, err = parseTemplates(templateFS, s.templateFuncs()); err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	s.handler = s.routes()
	return s, nil
}

// Handler returns the root handler: every route behind the middleware chain.
func (s *Server) Handler() http.Handler { return s.handler }
